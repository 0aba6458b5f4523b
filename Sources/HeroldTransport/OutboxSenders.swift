import Foundation
import HeroldCore
import HeroldMessage

/// Writes each email as `<deliveryid>.eml` into a folder instead of sending it (tests, dry runs).
public struct OutboxEmailSender: EmailSender {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func send(_ message: ComposedEmail) async throws(DeliveryFailure) -> String {
        try Outbox.write(message.bytes, id: message.deliveryID, suffix: "eml", directory: directory)
    }
}

/// Writes each webhook as `<deliveryid>.http`, the exact HTTP/1.1 request bytes.
public struct OutboxWebhookSender: WebhookSender {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func send(_ request: WebhookRequest) async throws(DeliveryFailure) -> String {
        try Outbox.write(request.httpBytes(), id: request.deliveryID, suffix: "http", directory: directory)
    }
}

enum Outbox {
    static func write(_ bytes: Data, id: DeliveryID, suffix: String, directory: String) throws(DeliveryFailure) -> String {
        guard id.isSafeToken else {
            throw DeliveryFailure(kind: .permanent, code: "message.invalid",
                                  message: "delivery id \"\(id)\" is not usable as a file name")
        }
        do {
            try AtomicFile.create(bytes, directory: directory, name: "\(id.rawValue).\(suffix)")
        } catch {
            // A full disk or a permissions fix by the operator can make the next try work.
            throw DeliveryFailure(kind: .transient, code: "outbox.io", message: error.description)
        }
        return "outbox \(id.rawValue).\(suffix)"
    }
}
