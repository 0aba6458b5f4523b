import Curl
import Foundation
import HeroldCore
import HeroldMessage

/// One line of `herold check --connect`: a destination, and what works or what does not.
public struct ConnectionCheckResult: Sendable, Equatable {
    /// `smtp smtp://host:587` or `webhook NAME https://…`.
    public var destination: String
    public var ok: Bool
    /// `TLS 1.3, certificate CN=…, logged in as rops`, or why not: `login refused (535 …)`.
    public var detail: String

    public init(destination: String, ok: Bool, detail: String) {
        self.destination = destination
        self.ok = ok
        self.detail = detail
    }

    public var line: String { "\(destination)  \(ok ? "OK" : "FAILED"): \(detail)" }
}

/// Talks to a destination as a delivery would, up to the point where something would be sent:
/// for the relay connect, TLS, EHLO and AUTH (no `MAIL FROM`); for a webhook endpoint DNS, the
/// address policy, TCP and TLS (no request). Uses the senders' own settings and peer check.
public enum ConnectionCheck {
    /// The relay: connects, greets, STARTTLS (or TLS from the first byte) and logs in.
    public static func smtp(_ settings: SMTPSettings, from: String) async -> ConnectionCheckResult {
        let name = "smtp \(settings.url)"
        do {
            try settings.validate()
        } catch {
            return ConnectionCheckResult(destination: name, ok: false, detail: error.description)
        }
        let transfer: SMTPTransfer
        do {
            transfer = try settings.transfer(mailFrom: from, recipient: from, message: [])
        } catch {
            return ConnectionCheckResult(destination: name, ok: false, detail: error.message)
        }
        let (result, trace) = await CurlConnectOnly.connect(.smtp(transfer))
        switch result {
        case .success:
            var parts = [tlsSummary(trace) ?? "plain text (no TLS)"]
            if let user = settings.username {
                guard replies(trace).contains(where: { $0.hasPrefix("235") }) else {
                    return ConnectionCheckResult(destination: name, ok: false, detail: (parts + [
                        "not logged in: the server offered no AUTH, and herold sends nothing without the login",
                    ]).joined(separator: ", "))
                }
                parts.append("logged in as \(user)")
            } else {
                parts.append("no login configured")
            }
            return ConnectionCheckResult(destination: name, ok: true, detail: parts.joined(separator: ", "))
        case .failure(let error):
            return ConnectionCheckResult(destination: name, ok: false, detail: explain(error, protocol: .smtp, trace: trace))
        }
    }

    /// A webhook endpoint: resolves, applies the address policy, connects and (https) shakes hands.
    public static func webhook(name: String, url: String, allowPrivate: Bool, settings: HTTPSettings) async -> ConnectionCheckResult {
        let destination = "webhook \(name) \(url)"
        do {
            try WebhookURL.parse(url).checkAllowed(allowPrivate: allowPrivate)
        } catch {
            return ConnectionCheckResult(destination: destination, ok: false, detail: "\(error)")
        }
        let transfer = HTTPPostTransfer(url: url, headers: [], body: [],
                                        timeouts: CurlTimeouts(connect: settings.connectTimeout, total: settings.totalTimeout),
                                        caFile: settings.caFile, allowPeer: PeerPolicy.check(allowPrivate: allowPrivate))
        let (result, trace) = await CurlConnectOnly.connect(.httpPost(transfer))
        switch result {
        case .success(let connection):
            let address = connection.primaryIP.map { "connected to \($0)" } ?? "connected"
            let security = tlsSummary(trace) ?? "plain HTTP (no TLS)"
            return ConnectionCheckResult(destination: destination, ok: true, detail: "\(address), \(security)")
        case .failure(let error):
            return ConnectionCheckResult(destination: destination, ok: false, detail: explain(error, protocol: .http, trace: trace))
        }
    }

    /// `TLS 1.3, certificate CN=localhost` from curl's notes; nil when the session was plain.
    static func tlsSummary(_ trace: [CurlTraceLine]) -> String? {
        var version: String?
        var subject: String?
        for line in trace {
            switch line {
            case .tls(let text): version = version ?? text
            case .certificateSubject(let text): subject = subject ?? text
            default: break
            }
        }
        guard let version else { return nil }
        // "TLSv1.3 / TLS_AES_256_GCM_SHA384" → "TLS 1.3"
        let protocolName = version.split(separator: " ").first.map(String.init) ?? version
        var text = protocolName.replacingOccurrences(of: "TLSv", with: "TLS ")
        if let subject { text += ", certificate \(subject)" }
        return text
    }

    static func replies(_ trace: [CurlTraceLine]) -> [String] {
        trace.compactMap { if case .reply(let text) = $0 { return text } else { return nil } }
    }

    /// What went wrong, in the words an admin would look for first, with what the server or curl said.
    static func explain(_ error: CurlError, protocol kind: TransferProtocol, trace: [CurlTraceLine]) -> String {
        let reply = (error.serverReply?.split(separator: "\n").last).map(String.init)
        if let peer = error.refusedPeer {
            let why = AddressPolicy.refusal(forIP: peer) ?? "not a public address"
            return "address \(peer) refused by the address policy (\(why)); set allow_private: true if this endpoint is meant to be internal"
        }
        let failure = FailureClassifier.classify(.failure(error), protocol: kind, now: Date())
        switch failure?.code ?? "" {
        case "smtp.auth":
            if error.notLoggedIn, !replies(trace).contains(where: { $0.uppercased().contains("AUTH") }) {
                return "not logged in: the server offered no AUTH, and herold sends nothing without the login"
            }
            return "login refused (\(reply ?? error.message))"
        case "tls.certificate": return "TLS certificate not accepted (\(error.message)); see ca_file"
        case "tls.handshake": return "TLS handshake failed (\(error.message))"
        case "tls.starttls": return "the server does not offer STARTTLS, which herold requires here"
        case "curl.6": return "DNS: cannot resolve the host (\(error.message))"
        case "curl.7": return "cannot connect: connection refused or unreachable (\(error.message))"
        case "curl.28": return "timed out (\(error.message))"
        default:
            if let reply { return "the server said \(reply) (\(error.message))" }
            return failure?.message ?? error.description
        }
    }
}
