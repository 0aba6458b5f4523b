import Curl
import Foundation
import HeroldCore

/// Which protocol a transfer spoke, for reading its failure.
public enum TransferProtocol: Sendable {
    case smtp
    case http
}

/// The one table that turns a transfer's outcome into success (nil) or a `DeliveryFailure`.
public enum FailureClassifier {
    /// Classifies a finished transfer:
    ///
    /// | outcome | kind | code |
    /// |---|---|---|
    /// | SMTP: curl OK | success | |
    /// | SMTP: login refused (curl 67, or 530/534/535/538), or no AUTH offered while a username is set | transient, pauses the destination | `smtp.auth` |
    /// | SMTP: server replied 4xx (MAIL, RCPT, DATA) | transient | `smtp.4xx` |
    /// | SMTP: server replied 5xx | permanent | `smtp.5xx` |
    /// | HTTP 2xx | success | |
    /// | HTTP 408, 425, 429, 5xx | transient, with `Retry-After` | `http.NNN` |
    /// | HTTP 3xx (never followed) | permanent | `http.NNN` |
    /// | HTTP other 4xx, 1xx, others | permanent | `http.NNN` |
    /// | peer address refused by policy | permanent | `webhook.address-refused` |
    /// | TLS certificate not trusted, expired, for another name, or the CA file unusable (58, 60, 77, 83, 90, 91) | transient, pauses the destination | `tls.certificate` |
    /// | TLS handshake failed (35, 59) | transient, pauses the destination | `tls.handshake` |
    /// | STARTTLS required but not offered (64) | transient, pauses the destination | `tls.starttls` |
    /// | bad URL or scheme (1, 3), value refused before sending (43) | permanent | `curl.N` |
    /// | anything else: DNS (6), refused/unreachable (7), timeout (28), reset (55, 56), empty reply (52) | transient | `curl.N` |
    ///
    /// Login and TLS failures are deferred, as Postfix does: an expired token or certificate is
    /// fixed by someone, and the messages then go instead of having become dead letters.
    public static func classify(_ result: Result<CurlResponse, CurlError>, protocol kind: TransferProtocol,
                                now: Date) -> DeliveryFailure? {
        switch result {
        case .success(let response):
            guard kind == .http else { return nil }
            let status = response.responseCode
            if (200..<300).contains(status) { return nil }
            let retryAfter = response.header("Retry-After").flatMap { RetryAfter.parse($0, now: now) }
            var message = "HTTP \(status)"
            if (300..<400).contains(status) {
                message += ": redirect to \(response.header("Location") ?? "?") not followed"
            } else if let excerpt = bodyExcerpt(response.body) {
                message += ": " + excerpt
            }
            let transient = status == 408 || status == 425 || status == 429 || (500..<600).contains(status)
            return DeliveryFailure(kind: transient ? .transient : .permanent, code: "http.\(status)",
                                   message: message, retryAfter: transient ? retryAfter : nil)

        case .failure(let error):
            if let failure = destinationFailure(error, protocol: kind) { return failure }
            if kind == .smtp, (400..<600).contains(error.responseCode) {
                let reply = error.serverReply ?? "\(error.responseCode)"
                return DeliveryFailure(kind: error.responseCode < 500 ? .transient : .permanent,
                                       code: "smtp.\(error.responseCode)", message: "\(reply) (\(error.message))")
            }
            if error.refusedPeer != nil {
                return DeliveryFailure(kind: .permanent, code: "webhook.address-refused", message: error.message)
            }
            let permanent: Set<Int> = [
                CurlError.Code.unsupportedProtocol, CurlError.Code.urlMalformed, CurlError.Code.badFunctionArgument,
            ]
            return DeliveryFailure(kind: permanent.contains(error.code) ? .permanent : .transient,
                                   code: "curl.\(error.code)", message: withReply(error, protocol: kind))
        }
    }

    /// Login and TLS failures: the destination, not the message, is the problem (see `pausesDestination`).
    static func destinationFailure(_ error: CurlError, protocol kind: TransferProtocol) -> DeliveryFailure? {
        let code: String
        let advice: String
        switch error.code {
        case _ where kind == .smtp && (error.notLoggedIn || error.code == CurlError.Code.loginDenied
                                       || [530, 534, 535, 538].contains(error.responseCode)):
            code = "smtp.auth"
            advice = "the relay did not accept the login; check smtp.username and the password or token (deferred, retried)"
        case CurlError.Code.peerFailedVerification, CurlError.Code.sslCertProblem, CurlError.Code.sslCACertBadFile,
             CurlError.Code.sslIssuerError, CurlError.Code.sslPinnedPubKeyNotMatch, CurlError.Code.sslInvalidCertStatus:
            code = "tls.certificate"
            advice = "the server's certificate was not accepted (expired, for another name, or from a CA not trusted: see ca_file); deferred, retried"
        case CurlError.Code.sslConnectError, CurlError.Code.sslCipher:
            code = "tls.handshake"
            advice = "the TLS handshake failed; deferred, retried"
        case CurlError.Code.useSSLFailed:
            code = "tls.starttls"
            advice = "the server did not offer STARTTLS, which tls: starttls requires; deferred, retried"
        default:
            return nil
        }
        return DeliveryFailure(kind: .transient, code: code, message: "\(advice): \(withReply(error, protocol: kind))")
    }

    /// curl's message, with the server's reply for SMTP.
    private static func withReply(_ error: CurlError, protocol kind: TransferProtocol) -> String {
        guard kind == .smtp, let reply = error.serverReply else { return error.message }
        return error.message + " (server: \(reply))"
    }

    /// The start of a response body, printable and on one line, for the failure message.
    static func bodyExcerpt(_ body: [UInt8]) -> String? {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
            .map { $0.isNewline || $0 == "\t" ? " " : $0 }
            .filter { !$0.unicodeScalars.contains { $0.properties.generalCategory == .control } }
        let trimmed = String(text).trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }
}
