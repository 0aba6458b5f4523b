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
    /// | SMTP: server replied 4xx (MAIL, RCPT, DATA, AUTH) | transient | `smtp.4xx` |
    /// | SMTP: server replied 5xx | permanent | `smtp.5xx` |
    /// | HTTP 2xx | success | |
    /// | HTTP 408, 425, 429, 5xx | transient, with `Retry-After` | `http.NNN` |
    /// | HTTP 3xx (never followed) | permanent | `http.NNN` |
    /// | HTTP other 4xx, 1xx, others | permanent | `http.NNN` |
    /// | peer address refused by policy | permanent | `webhook.address-refused` |
    /// | TLS certificate or CA problem (58, 60, 77, 83, 90, 91); STARTTLS not offered (64) | permanent | `curl.N` |
    /// | bad URL or scheme (1, 3), value refused before sending (43), login denied (67) | permanent | `curl.N` |
    /// | anything else: DNS (6), refused/unreachable (7), timeout (28), reset (55, 56), empty reply (52) | transient | `curl.N` |
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
            if kind == .smtp, (400..<600).contains(error.responseCode) {
                let reply = error.serverReply ?? "\(error.responseCode)"
                return DeliveryFailure(kind: error.responseCode < 500 ? .transient : .permanent,
                                       code: "smtp.\(error.responseCode)", message: "\(reply) (\(error.message))")
            }
            if error.refusedPeer != nil {
                return DeliveryFailure(kind: .permanent, code: "webhook.address-refused", message: error.message)
            }
            let permanent: Set<Int> = [
                CurlError.Code.sslCertProblem, CurlError.Code.peerFailedVerification,
                CurlError.Code.sslCACertBadFile, CurlError.Code.sslIssuerError,
                CurlError.Code.sslPinnedPubKeyNotMatch, CurlError.Code.sslInvalidCertStatus,
                CurlError.Code.useSSLFailed, CurlError.Code.unsupportedProtocol, CurlError.Code.urlMalformed,
                CurlError.Code.badFunctionArgument, CurlError.Code.loginDenied,
            ]
            var message = error.message
            if let reply = error.serverReply, kind == .smtp { message += " (server: \(reply))" }
            return DeliveryFailure(kind: permanent.contains(error.code) ? .permanent : .transient,
                                   code: "curl.\(error.code)", message: message)
        }
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
