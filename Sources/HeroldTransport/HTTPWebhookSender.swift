import Curl
import Foundation
import HeroldCore
import HeroldMessage
import Logging

/// POSTs signed webhooks through the shared `CurlEngine`; only a 2xx answer is success.
public struct HTTPWebhookSender: WebhookSender {
    public let settings: HTTPSettings
    private let engine: CurlEngine
    private let logger: Logger
    private let now: @Sendable () -> Date

    public init(settings: HTTPSettings = HTTPSettings(), engine: CurlEngine, logger: Logger,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.settings = settings
        self.engine = engine
        self.logger = logger
        self.now = now
    }

    public func send(_ request: WebhookRequest) async throws(DeliveryFailure) -> String {
        do {
            try request.url.checkAllowed(allowPrivate: request.allowPrivateAddresses)
        } catch {
            throw error.deliveryFailure
        }
        let allowPeer = PeerPolicy.check(allowPrivate: request.allowPrivateAddresses)
        let transfer = HTTPPostTransfer(
            url: request.url.description,
            headers: request.headers.map { CurlHeader(name: $0.name, value: $0.value) },
            body: Array(request.body), responseBodyLimit: settings.responseBodyLimit,
            timeouts: CurlTimeouts(connect: settings.connectTimeout, total: settings.totalTimeout),
            caFile: settings.caFile, allowPeer: allowPeer)
        var logger = logger
        logger[metadataKey: "delivery.id"] = "\(request.deliveryID)"
        logger.debug("sending webhook", metadata: ["webhook.host": "\(request.url.host)"])

        let result = await engine.result(of: .httpPost(transfer))
        if let failure = FailureClassifier.classify(result, protocol: .http, now: now()) {
            logger.debug("webhook not delivered", metadata: ["failure.code": "\(failure.code)"])
            throw failure
        }
        return "HTTP \((try? result.get())?.responseCode ?? 200)"
    }
}
