import Foundation

/// Whether trying again can help.
public enum FailureKind: String, Sendable, Codable {
    /// The next try may work: connection refused, timeout, SMTP 4xx, HTTP 5xx/408/425/429.
    case transient
    /// It will not work without a change: SMTP 5xx, other HTTP 4xx, a redirect, a bad address.
    case permanent
}

/// Why a delivery attempt did not succeed, with what the server or libcurl said.
public struct DeliveryFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var kind: FailureKind
    /// A short, stable code safe as a log field or metric label: `smtp.550`, `http.503`, `curl.7`.
    public var code: String
    /// Human-readable detail: the server's reply or libcurl's message.
    public var message: String
    /// A server's `Retry-After`, in seconds, when it gave one.
    public var retryAfter: TimeInterval?

    public init(kind: FailureKind, code: String, message: String, retryAfter: TimeInterval? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(kind) \(code): \(message)" }
}

extension DeliveryFailure {
    /// Codes that say the destination itself is unusable for now, not this one message: the relay
    /// refused the login (`smtp.auth`: an expired password or OAuth token, AUTH not offered) or
    /// TLS failed (`tls.*`: an expired or untrusted certificate, no STARTTLS). They are transient
    /// (deferred, as Postfix does), and every other delivery to the same destination would fail
    /// the same way, so a dispatcher may pause the destination's whole lane until one try works.
    public var pausesDestination: Bool { code == "smtp.auth" || code.hasPrefix("tls.") }
}
