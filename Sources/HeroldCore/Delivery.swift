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
/// Fields added after 0.1 decode with defaults, so journal rows written by 0.1 still load.
public struct EmailContent: Sendable, Equatable, Codable {
    /// `From` header, e.g. `Powiadomienia ROPS <powiadomienia@example.org>`.
    public var from: String
    /// The single recipient's address (one message per recipient).
    public var to: String
    public var subject: String
    public var text: String
    /// The HTML alternative (from `html.mustache`); the text part is always sent too.
    public var html: String?
    /// Files attached, read when the message is composed.
    public var attachments: [AttachmentRef]
    /// `Reply-To` header, a mailbox.
    public var replyTo: String?
    /// `Sender` header, a mailbox (who actually sends on behalf of `From`).
    public var sender: String?
    /// `List-Unsubscribe` value, e.g. `<mailto:wypisz@example.org>, <https://example.org/u>`.
    public var listUnsubscribe: String?

    public init(from: String, to: String, subject: String, text: String, html: String? = nil,
                attachments: [AttachmentRef] = [], replyTo: String? = nil, sender: String? = nil,
                listUnsubscribe: String? = nil) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.attachments = attachments
        self.replyTo = replyTo
        self.sender = sender
        self.listUnsubscribe = listUnsubscribe
    }

    private enum CodingKeys: String, CodingKey {
        case from, to, subject, text, html, attachments, replyTo, sender, listUnsubscribe
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        from = try c.decode(String.self, forKey: .from)
        to = try c.decode(String.self, forKey: .to)
        subject = try c.decode(String.self, forKey: .subject)
        text = try c.decode(String.self, forKey: .text)
        html = try c.decodeIfPresent(String.self, forKey: .html)
        attachments = try c.decodeIfPresent([AttachmentRef].self, forKey: .attachments) ?? []
        replyTo = try c.decodeIfPresent(String.self, forKey: .replyTo)
        sender = try c.decodeIfPresent(String.self, forKey: .sender)
        listUnsubscribe = try c.decodeIfPresent(String.self, forKey: .listUnsubscribe)
    }
}

/// A file to attach: the name the recipient sees and the checked path it is read from.
public struct AttachmentRef: Sendable, Equatable, Codable {
    /// File name shown to the recipient (may hold Polish letters).
    public var name: String
    /// Absolute path, already resolved inside an allowed folder (no symlink leads out).
    public var path: String
    /// Largest size accepted when the bytes are read, in bytes.
    public var maxBytes: Int
    /// The `attachments.roots` folder as configured, and the file's path below it (symlinks
    /// resolved at planning time): at send time the file is opened through these, with no
    /// symbolic link allowed below the root. nil in journal rows written before issue 8: then `path`
    /// itself is opened with no symbolic link on any component.
    public var root: String?
    public var relative: String?

    public init(name: String, path: String, maxBytes: Int = 10 << 20, root: String? = nil, relative: String? = nil) {
        self.name = name
        self.path = path
        self.maxBytes = maxBytes
        self.root = root
        self.relative = relative
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
