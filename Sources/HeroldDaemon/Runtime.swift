import Curl
import Foundation
import HeroldConfig
import HeroldCore
import HeroldMessage
import HeroldRules
import HeroldTransport
import Logging

/// Everything one configuration gives the daemon: the rules with their compiled templates,
/// and the senders with their secrets. Built whole, replaced whole on reload.
struct Runtime: Sendable {
    let config: HeroldConfig
    let engine: RuleEngine
    let composer: EmailComposer
    let emailSender: (any EmailSender)?
    let webhookSenders: [String: any WebhookSender]
    let webhookSecrets: [String: WebhookSecret]
    /// Old secrets during key rotation (`previous_secret_file`), by endpoint.
    var previousWebhookSecrets: [String: WebhookSecret] = [:]

    static func compileTemplates(_ config: HeroldConfig) throws(ConfigErrors) -> TemplateSet {
        try TemplateSet.compile(config: config)
    }

    /// Loads and checks the config, its templates and secrets. With `curl`, senders talk to
    /// real servers (or write to an outbox when the config says so); without, nothing is sent.
    static func load(configPath: String, logger: Logger, curl: CurlEngine? = nil) throws(ConfigErrors) -> Runtime {
        let config = try ConfigLoader.load(path: configPath)
        var issues = ConfigLoader.checkFiles(config)
        var templates = TemplateSet()
        do {
            templates = try compileTemplates(config)
        } catch {
            issues += error.issues
        }
        func createOutbox(_ folder: URL) {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o750])
            } catch {
                issues.append(ConfigIssue(file: config.file.path, line: 0, message: "cannot create outbox folder \(folder.path): \(error.localizedDescription)"))
            }
        }
        func issue(_ key: String, _ message: String, fix: String? = nil) {
            issues.append(ConfigIssue(file: config.file.path, line: config.lines[key] ?? 0, message: message, fix: fix))
        }

        var emailSender: (any EmailSender)?
        if let smtp = config.smtp {
            if let outbox = smtp.outbox {
                if curl != nil { createOutbox(outbox) }
                emailSender = OutboxEmailSender(directory: outbox.path)
            } else if let url = smtp.url, let curl {
                var password: String?
                if let file = smtp.passwordFile {
                    password = (try? String(contentsOf: file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                do {
                    let settings = smtpSettings(smtp, url: url, password: password)
                    emailSender = try SMTPSender(settings: settings, engine: curl, logger: logger)
                } catch {
                    issue("smtp", error.description)
                }
            }
        }

        var webhookSenders: [String: any WebhookSender] = [:]
        var secrets: [String: WebhookSecret] = [:]
        for (name, endpoint) in config.webhooks {
            if let text = try? String(contentsOf: endpoint.secretFile, encoding: .utf8) {
                do {
                    secrets[name] = try WebhookSecret(text.trimmingCharacters(in: .whitespacesAndNewlines))
                } catch {
                    issue("webhooks.\(name).secret_file", "\(endpoint.secretFile.path): \(error)")
                }
            }
            if let outbox = endpoint.outbox {
                if curl != nil { createOutbox(outbox) }
                webhookSenders[name] = OutboxWebhookSender(directory: outbox.path)
            } else if let curl {
                let settings = HTTPSettings(connectTimeout: .seconds(endpoint.connectTimeout),
                                            totalTimeout: .seconds(endpoint.timeout))
                webhookSenders[name] = HTTPWebhookSender(settings: settings, engine: curl, logger: logger)
            }
        }
        let previous = previousSecrets(config, issues: &issues)
        if !issues.isEmpty { throw ConfigErrors(issues) }
        var runtime = Runtime(config: config, engine: RuleEngine(config: config, templates: templates),
                              composer: EmailComposer(timeZone: config.timezone), emailSender: emailSender,
                              webhookSenders: webhookSenders, webhookSecrets: secrets)
        runtime.previousWebhookSecrets = previous
        return runtime
    }

    /// When a scheduled send is too late to go out (decided at claim): the downtime `grace`
    /// for reminders, with due times in local words.
    var lateness: Lateness {
        let zone = config.timezone
        return Lateness(grace: config.grace, scheduledRules: Set(config.rules.filter { $0.remind != nil }.map(\.name)),
                        describe: { WallClock.format($0, in: zone) })
    }

    /// The longest one transfer may take: the slowest destination's connect and total timeouts.
    var longestTransfer: Duration {
        let seconds = ([config.smtp.map { $0.connectTimeout + $0.timeout } ?? 0]
            + config.webhooks.values.map { $0.connectTimeout + $0.timeout }).max() ?? 60
        return .seconds(seconds)
    }

    /// The event's deliveries, each email already checked as the composer will build it
    /// (every check of `compose`, without encoding the body) so that one that cannot be built
    /// (an address, a header, an attachment) is held now rather than failing at send time.
    func plan(_ event: CloudEvent, now: Date) -> [Delivery] {
        engine.plan(event: event, now: now).map { delivery in
            guard delivery.state == .pending, case .email(let email)? = delivery.payload,
                  let failure = unbuildable(email, id: delivery.id) else { return delivery }
            var held = delivery
            held.state = .held
            held.reason = failure.message
            return held
        }
    }

    /// Why the composer would refuse `email`, or nil when it can be built.
    private func unbuildable(_ email: EmailContent, id: DeliveryID) -> DeliveryFailure? {
        do throws(MessageError) {
            try composer.validate(email, id: id)
            return nil
        } catch {
            return error.deliveryFailure
        }
    }

    func composeEmail(_ delivery: Delivery, email: EmailContent, date: Date) -> Result<Data, DeliveryFailure> {
        do {
            return .success(try composer.compose(email, id: delivery.id, date: date).bytes)
        } catch {
            return .failure(error.deliveryFailure)
        }
    }

    /// One attempt at a delivery: the server's reply, or why not.
    func transmit(_ delivery: Delivery, at now: Date) async -> Result<String, DeliveryFailure> {
        do {
            switch delivery.payload {
            case .email(let email)?:
                guard let sender = emailSender else {
                    throw DeliveryFailure(kind: .permanent, code: "config.smtp", message: "the config has no smtp section")
                }
                let message: ComposedEmail
                do { message = try composer.compose(email, id: delivery.id, date: now) } catch { throw error.deliveryFailure }
                return .success(try await sender.send(message))
            case .webhook(let hook)?:
                guard let endpoint = config.webhooks[hook.endpoint], let sender = webhookSenders[hook.endpoint],
                      let secret = webhookSecrets[hook.endpoint] else {
                    throw DeliveryFailure(kind: .permanent, code: "config.endpoint",
                                          message: "no webhook endpoint named \"\(hook.endpoint)\" in the config")
                }
                let request: WebhookRequest
                do {
                    request = try WebhookRequest.build(url: endpoint.url, secret: secret, id: delivery.id, timestamp: now,
                                                       contentType: hook.contentType, body: hook.body,
                                                       allowPrivate: endpoint.allowPrivate,
                                                       previousSecret: previousWebhookSecrets[hook.endpoint],
                                                       extraHeaders: endpoint.headers.map { HeaderField(name: $0.name, value: $0.value) })
                } catch { throw error.deliveryFailure }
                return .success(try await sender.send(request))
            case nil:
                throw DeliveryFailure(kind: .permanent, code: "delivery.unrendered", message: delivery.reason ?? "nothing to send")
            }
        } catch let failure as DeliveryFailure {
            return .failure(failure)
        } catch {
            return .failure(DeliveryFailure(kind: .transient, code: "internal", message: "\(error)"))
        }
    }
}
