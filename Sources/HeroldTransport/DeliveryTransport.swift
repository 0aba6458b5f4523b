import Foundation
import HeroldConfig
import HeroldCore
import HeroldMessage
import Logging

/// "Send this delivery": everything one configuration gives the sending side — the composer,
/// the relay's and each endpoint's sender over the shared engine (or an outbox folder), and the
/// webhook secrets. Built whole from the config, replaced whole on reload.
public struct DeliveryTransport: Sendable {
    public let composer: EmailComposer
    /// The relay's sender; nil without an `smtp:` section, or when built without an engine.
    public let emailSender: (any EmailSender)?
    let smtp: SMTPConfig?
    let endpoints: [String: WebhookConfig]
    let webhookSenders: [String: any WebhookSender]
    let secrets: [String: WebhookSecret]
    /// Old secrets during key rotation (`previous_secret_file`), by endpoint.
    let previousSecrets: [String: WebhookSecret]

    /// Reads and checks the secrets and the senders' settings. With `engine`, senders talk to
    /// real servers (or write to an outbox folder, created now, when the config says so);
    /// without, nothing can be sent but messages can still be built and signed (previews).
    public static func build(config: HeroldConfig, engine: TransportEngine?, logger: Logger) throws(ConfigErrors) -> DeliveryTransport {
        let (texts, secretIssues) = ConfigLoader.readSecrets(config)
        var issues = secretIssues
        var emailSender: (any EmailSender)?
        if let smtp = config.smtp {
            emailSender = relaySender(smtp, password: texts.smtpPassword, engine: engine, logger: logger, config: config, issues: &issues)
        }
        var webhookSenders: [String: any WebhookSender] = [:]
        for (name, endpoint) in config.webhooks {
            if let outbox = endpoint.outbox {
                if engine != nil { createOutbox(outbox, config: config, issues: &issues) }
                webhookSenders[name] = OutboxWebhookSender(directory: outbox.path)
            } else if let engine {
                let settings = HTTPSettings(connectTimeout: .seconds(endpoint.connectTimeout), totalTimeout: .seconds(endpoint.timeout))
                webhookSenders[name] = HTTPWebhookSender(settings: settings, engine: engine.curl, logger: logger)
            }
        }
        if !issues.isEmpty { throw ConfigErrors(issues) }
        // `readSecrets` let through only whsec_ secrets, which always parse.
        return DeliveryTransport(composer: EmailComposer(timeZone: config.timezone), emailSender: emailSender,
                                 smtp: config.smtp, endpoints: config.webhooks, webhookSenders: webhookSenders,
                                 secrets: texts.webhook.compactMapValues { try? WebhookSecret($0) },
                                 previousSecrets: texts.previousWebhook.compactMapValues { try? WebhookSecret($0) })
    }

    /// The relay's outbox or SMTP sender; an SMTP sender only with an engine.
    private static func relaySender(_ smtp: SMTPConfig, password: String?, engine: TransportEngine?, logger: Logger,
                                    config: HeroldConfig, issues: inout [ConfigIssue]) -> (any EmailSender)? {
        if let outbox = smtp.outbox {
            if engine != nil { createOutbox(outbox, config: config, issues: &issues) }
            return OutboxEmailSender(directory: outbox.path)
        }
        guard let url = smtp.url, let engine else { return nil }
        do {
            return try SMTPSender(settings: SMTPSettings(smtp, url: url, password: password), engine: engine.curl, logger: logger)
        } catch {
            issues.append(ConfigIssue(file: config.file.path, line: config.lines["smtp"] ?? 0, message: error.description))
            return nil
        }
    }

    private static func createOutbox(_ folder: URL, config: HeroldConfig, issues: inout [ConfigIssue]) {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o750])
        } catch {
            issues.append(ConfigIssue(file: config.file.path, line: 0,
                                      message: "cannot create outbox folder \(folder.path): \(error.localizedDescription)"))
        }
    }
}

extension DeliveryTransport {
    /// One attempt at a delivery: the server's reply, or why not.
    public func transmit(_ delivery: Delivery, at now: Date) async -> Result<String, DeliveryFailure> {
        do throws(DeliveryFailure) {
            switch delivery.payload {
            case .email(let email)?:
                guard let sender = emailSender else {
                    throw DeliveryFailure(kind: .permanent, code: "config.smtp", message: "the config has no smtp section")
                }
                let message: ComposedEmail
                do { message = try composer.compose(email, id: delivery.id, date: now) } catch { throw error.deliveryFailure }
                return .success(try await sender.send(message))
            case .webhook(let hook)?:
                guard let sender = webhookSenders[hook.endpoint] else { throw Self.unknownEndpoint(hook.endpoint) }
                return .success(try await sender.send(try request(delivery.id, hook: hook, date: now)))
            case nil:
                throw DeliveryFailure(kind: .permanent, code: "delivery.unrendered", message: delivery.reason ?? "nothing to send")
            }
        } catch {
            return .failure(error)
        }
    }

    /// Why the composer would refuse `email` (every check of `compose`, without encoding the
    /// body), or nil when it can be built.
    public func unbuildable(_ email: EmailContent, id: DeliveryID) -> DeliveryFailure? {
        do throws(MessageError) {
            try composer.validate(email, id: id)
            return nil
        } catch {
            return error.deliveryFailure
        }
    }

    /// The email's bytes as they would be sent at `date`, or why it cannot be built.
    public func composeEmail(_ delivery: Delivery, email: EmailContent, date: Date) -> Result<Data, DeliveryFailure> {
        do throws(MessageError) {
            return .success(try composer.compose(email, id: delivery.id, date: date).bytes)
        } catch {
            return .failure(error.deliveryFailure)
        }
    }

    /// The signed request a webhook delivery would send at `date`, or nil if it cannot be built.
    public func previewRequest(_ delivery: Delivery, hook: WebhookContent, date: Date) -> WebhookRequest? {
        try? request(delivery.id, hook: hook, date: date)
    }

    /// The signed request for `hook` at `date`, with the endpoint's secrets and headers.
    private func request(_ id: DeliveryID, hook: WebhookContent, date: Date) throws(DeliveryFailure) -> WebhookRequest {
        guard let endpoint = endpoints[hook.endpoint], let secret = secrets[hook.endpoint] else {
            throw Self.unknownEndpoint(hook.endpoint)
        }
        do {
            return try WebhookRequest.build(url: endpoint.url, secret: secret, id: id, timestamp: date,
                                            contentType: hook.contentType, body: hook.body,
                                            allowPrivate: endpoint.allowPrivate,
                                            previousSecret: previousSecrets[hook.endpoint],
                                            extraHeaders: endpoint.headers.map { HeaderField(name: $0.name, value: $0.value) })
        } catch {
            throw error.deliveryFailure
        }
    }

    private static func unknownEndpoint(_ name: String) -> DeliveryFailure {
        DeliveryFailure(kind: .permanent, code: "config.endpoint", message: "no webhook endpoint named \"\(name)\" in the config")
    }
}
