import Foundation
import HeroldConfig
import HeroldCore
import HeroldMessage
import HeroldRules
import HeroldTransport
import Logging

/// Everything one configuration gives the daemon: the rules with their compiled templates,
/// and the transport that sends (senders, composer, secrets). Built whole, replaced whole on reload.
struct Runtime: Sendable {
    let config: HeroldConfig
    let engine: RuleEngine
    let transport: DeliveryTransport

    static func compileTemplates(_ config: HeroldConfig) throws(ConfigErrors) -> TemplateSet {
        try TemplateSet.compile(config: config)
    }

    /// Loads and checks the config, its templates and secrets. With `transportEngine`, senders
    /// talk to real servers (or write to an outbox when the config says so); without, nothing is sent.
    static func load(configPath: String, logger: Logger, transportEngine: TransportEngine? = nil) throws(ConfigErrors) -> Runtime {
        let config = try ConfigLoader.load(path: configPath)
        var issues = ConfigLoader.checkFiles(config, secrets: false)
        var transport: DeliveryTransport?
        do {
            transport = try DeliveryTransport.build(config: config, engine: transportEngine, logger: logger)
        } catch {
            issues += error.issues
        }
        issues.sort { $0.line < $1.line }
        var templates = TemplateSet()
        do {
            templates = try compileTemplates(config)
        } catch {
            issues += error.issues
        }
        guard issues.isEmpty, let transport else { throw ConfigErrors(issues) }
        return Runtime(config: config, engine: RuleEngine(config: config, templates: templates), transport: transport)
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
                  let failure = transport.unbuildable(email, id: delivery.id) else { return delivery }
            var held = delivery
            held.state = .held
            held.reason = failure.message
            return held
        }
    }
}
