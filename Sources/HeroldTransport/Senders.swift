import HeroldCore
import HeroldMessage

/// Delivers one composed email; returns a short summary of the server's answer for the journal.
public protocol EmailSender: Sendable {
    func send(_ message: ComposedEmail) async throws(DeliveryFailure) -> String
}

/// Delivers one signed webhook request; returns a short summary (e.g. "HTTP 204") for the journal.
public protocol WebhookSender: Sendable {
    func send(_ request: WebhookRequest) async throws(DeliveryFailure) -> String
}
