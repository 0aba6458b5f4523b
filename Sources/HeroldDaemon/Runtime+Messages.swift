import Foundation
import HeroldCore
import HeroldMessage
import HeroldTransport

extension Runtime {
    /// The relay's sender (the admin summaries go through it too); nil without `smtp:`.
    var emailSender: (any EmailSender)? { transport.emailSender }

    var composer: EmailComposer { transport.composer }

    /// One attempt at a delivery: the server's reply, or why not.
    func transmit(_ delivery: Delivery, at now: Date) async -> Result<String, DeliveryFailure> {
        await transport.transmit(delivery, at: now)
    }

    func composeEmail(_ delivery: Delivery, email: EmailContent, date: Date) -> Result<Data, DeliveryFailure> {
        transport.composeEmail(delivery, email: email, date: date)
    }

    /// The signed request a webhook delivery would send at `date`, or nil if it cannot be built.
    func previewRequest(_ delivery: Delivery, hook: WebhookContent, date: Date) -> WebhookRequest? {
        transport.previewRequest(delivery, hook: hook, date: date)
    }

    /// `gethostname()`, as libcurl would send it; nil when it fails.
    static func machineName() -> String? { SMTPSettings.machineName() }
}
