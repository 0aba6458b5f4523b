import Crypto
import Foundation

/// A Standard Webhooks signing key: `whsec_` + base64 (the bare base64 is accepted too, as the
/// reference libraries do). Its description never shows the key.
public struct WebhookSecret: Sendable, Equatable, CustomStringConvertible {
    let key: SymmetricKey

    /// Parses the secret file's text; surrounding whitespace (a trailing newline) is ignored.
    public init(_ text: String) throws(MessageError) {
        var encoded = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if encoded.hasPrefix("whsec_") { encoded.removeFirst("whsec_".count) }
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else {
            throw .invalidSecret("expected \"whsec_\" followed by base64")
        }
        key = SymmetricKey(data: bytes)
    }

    public var description: String { "WebhookSecret(redacted)" }

    public static func == (lhs: WebhookSecret, rhs: WebhookSecret) -> Bool {
        lhs.key.withUnsafeBytes { l in rhs.key.withUnsafeBytes { r in l.elementsEqual(r) } }
    }
}

/// Standard Webhooks `webhook-signature` values: `v1,` + base64(HMAC-SHA256(key, "id.timestamp.body")).
public enum WebhookSignature {
    /// The `v1,...` signature of `body` sent as message `id` at `timestamp` (Unix seconds).
    public static func sign(secret: WebhookSecret, id: String, timestamp: Int64, body: Data) -> String {
        var hmac = HMAC<SHA256>(key: secret.key)
        hmac.update(data: Data("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return "v1," + Data(hmac.finalize()).base64EncodedString()
    }

    /// True when one of the space-separated signatures in `header` is ours (constant-time compare).
    public static func verify(header: String, secret: WebhookSecret, id: String, timestamp: Int64,
                              body: Data) -> Bool {
        let expected = Data(sign(secret: secret, id: id, timestamp: timestamp, body: body).utf8)
        var matched = false
        for candidate in header.split(separator: " ") {
            let given = Data(candidate.utf8)
            guard given.count == expected.count else { continue }
            var difference: UInt8 = 0
            for (a, b) in zip(given, expected) { difference |= a ^ b }
            if difference == 0 { matched = true }
        }
        return matched
    }
}
