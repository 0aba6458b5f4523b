import Curl
import Foundation
import HeroldCore
import HeroldMessage
import Logging

/// Sends email over SMTP through the shared `CurlEngine`. At most `maxConnections` messages
/// go at once, and the engine's multi handle keeps connections in its cache, so messages to
/// the relay reuse the same SMTP sessions instead of opening one each.
public struct SMTPSender: EmailSender {
    public let settings: SMTPSettings
    private let engine: CurlEngine
    private let logger: Logger
    private let limiter: ConnectionLimiter

    /// Fails at once if `settings` cannot work (scheme and TLS mode disagree).
    public init(settings: SMTPSettings, engine: CurlEngine, logger: Logger) throws(TransportSettingsError) {
        try settings.validate()
        self.settings = settings
        self.engine = engine
        self.logger = logger
        self.limiter = ConnectionLimiter(limit: settings.maxConnections)
    }

    public func send(_ message: ComposedEmail) async throws(DeliveryFailure) -> String {
        // The envelope goes into SMTP commands: check it here too, whoever built the message.
        for address in [message.envelopeFrom, message.recipient] {
            do {
                try Mailbox.validate(address: address)
            } catch {
                throw DeliveryFailure(kind: .permanent, code: "message.invalid",
                                      message: "envelope address refused: \(error)")
            }
        }
        var transfer = try settings.transfer(mailFrom: message.envelopeFrom, recipient: message.recipient,
                                             message: Array(message.bytes))
        var logger = logger
        logger[metadataKey: "delivery.id"] = "\(message.deliveryID)"
        logger.debug("sending email", metadata: ["smtp.url": "\(settings.url)", "smtp.ehlo": "\(settings.ehloName ?? "-")"])

        transfer.trace = TraceLog.trace(to: logger)
        let prepared = transfer, sessionLogger = logger
        let result = try await limiter.run { () async throws(DeliveryFailure) in
            await perform(prepared, logger: sessionLogger)
        }
        if let failure = FailureClassifier.classify(result, protocol: .smtp, now: Date()) {
            logger.debug("email not sent", metadata: ["failure.code": "\(failure.code)"])
            throw failure
        }
        let response = try? result.get()
        let reply = response?.serverReply?.split(separator: "\n").last.map(String.init)
        return reply ?? "SMTP \(response?.responseCode ?? 250)"
    }

    /// One transfer; if it met a session the relay had dropped meanwhile (idle timeout) before
    /// anything of the message was accepted, once more at once on a new connection. The caller
    /// sees only the final result: no attempt is counted and nothing is deferred for a reconnect.
    private func perform(_ transfer: SMTPTransfer, logger: Logger) async -> Result<CurlResponse, CurlError> {
        let first = await engine.result(of: .smtp(transfer))
        guard case .failure(let error) = first, error.staleConnection else { return first }
        logger.info("the relay had closed the idle session; sending on a new connection",
                    metadata: ["curl.code": "\(error.code)", "smtp.reply": "\(error.serverReply ?? "-")"])
        var fresh = transfer
        fresh.freshConnection = true
        return await engine.result(of: .smtp(fresh))
    }
}
