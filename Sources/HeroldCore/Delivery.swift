import Crypto
import Foundation

/// How a delivery travels.
public enum Channel: String, Sendable, Codable, CaseIterable {
    case email
    case webhook
}

/// Where a delivery is in its life.
public enum DeliveryState: String, Sendable, Codable, CaseIterable {
    /// Waiting for its time (`notBefore`) or for a free transport.
    case pending
    /// Handed to a transport; a crash here means "try again" on restart.
    case inflight
    /// The server accepted it (SMTP 250, HTTP 2xx).
    case sent
    /// A transient failure; will be tried again.
    case deferred
    /// Cannot be built (template, address, attachment); waits for an operator.
    case held
    /// A permanent failure, or out of lifetime: a dead letter.
    case failed
}

/// A delivery's stable identity: the same (event, rule, action, recipient, time)
/// always gives the same id, which becomes the `Message-ID` and the `webhook-id`.
public struct DeliveryID: Hashable, Sendable, Codable, RawRepresentable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static func derive(event: EventKey, rule: String, action: Int, recipient: String,
                              scheduledAt: Date?) -> DeliveryID {
        var hasher = SHA256()
        let scheduled = scheduledAt.map { String(Int64($0.timeIntervalSince1970)) } ?? "now"
        for part in [event.source, event.id, rule, String(action), recipient, scheduled] {
            // Length-prefixed, so no two different tuples hash the same input.
            hasher.update(data: Data("\(part.utf8.count):".utf8))
            hasher.update(data: Data(part.utf8))
        }
        let digest = Array(hasher.finalize())
        return DeliveryID(rawValue: "hd_" + Base32.encode(digest.prefix(15)))
    }
}

/// An email, rendered: everything needed to build the RFC 5322 message at send time.
public struct EmailContent: Sendable, Equatable, Codable {
    /// `From` header, e.g. `Powiadomienia ROPS <powiadomienia@example.org>`.
    public var from: String
    /// The single recipient's address (one message per recipient).
    public var to: String
    public var subject: String
    public var text: String
    public init(from: String, to: String, subject: String, text: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
    }
}

/// A webhook request, rendered: the endpoint's name (its URL and secret come from the
/// config at send time) and the exact body.
public struct WebhookContent: Sendable, Equatable, Codable {
    public var endpoint: String
    public var contentType: String
    public var body: Data
    public init(endpoint: String, contentType: String, body: Data) {
        self.endpoint = endpoint
        self.contentType = contentType
        self.body = body
    }
}

/// What a delivery carries.
public enum DeliveryPayload: Sendable, Equatable, Codable {
    case email(EmailContent)
    case webhook(WebhookContent)

    public var channel: Channel {
        switch self {
        case .email: return .email
        case .webhook: return .webhook
        }
    }
}

/// One message to one recipient, planned by a rule for an event.
public struct Delivery: Sendable, Equatable {
    public var id: DeliveryID
    public var event: EventKey
    public var rule: String
    /// Index of the action within the rule's `send` list.
    public var action: Int
    public var channel: Channel
    /// An email address, or a webhook endpoint's name.
    public var recipient: String
    /// Not to be sent before this moment.
    public var notBefore: Date
    public var state: DeliveryState
    /// Nil when the delivery is held because it could not be rendered.
    public var payload: DeliveryPayload?
    /// Why it is held or failed, or the last transient error.
    public var reason: String?
    public var attempts: Int
    /// After this moment it must not be sent at all (a greeting after its day): it expires
    /// and fails instead. Nil: no such moment, only the retry lifetime applies.
    public var expiresAt: Date?

    public init(id: DeliveryID, event: EventKey, rule: String, action: Int, channel: Channel,
                recipient: String, notBefore: Date, state: DeliveryState,
                payload: DeliveryPayload?, reason: String? = nil, attempts: Int = 0, expiresAt: Date? = nil) {
        self.id = id
        self.event = event
        self.rule = rule
        self.action = action
        self.channel = channel
        self.recipient = recipient
        self.notBefore = notBefore
        self.state = state
        self.payload = payload
        self.reason = reason
        self.attempts = attempts
        self.expiresAt = expiresAt
    }
}

/// Lower-case RFC 4648 base32 without padding: ids safe in headers, file names and URLs.
public enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return out
    }
}
