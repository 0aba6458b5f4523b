import Foundation
import HeroldConfig
import HeroldCore

/// Turns an event into deliveries: matching, recipients, reminder times, rendering.
/// Pure: no I/O and no clock; `now` is given.
public struct RuleEngine: Sendable {
    /// The configuration the rules come from.
    public let config: HeroldConfig
    /// The compiled templates the rules use.
    public let templates: TemplateSet

    /// The config's recipient lists, each entry parsed once here rather than for every event.
    private let lists: [String: [Recipient]]

    /// An engine over already compiled templates.
    public init(config: HeroldConfig, templates: TemplateSet) {
        self.config = config
        self.templates = templates
        self.lists = config.recipients.mapValues { $0.map { Self.recipient($0) } }
    }

    /// Compiles the templates from `config.templatesDirectory` (reads files once, here).
    public init(config: HeroldConfig) throws(ConfigErrors) {
        self.init(config: config, templates: try TemplateSet.compile(config: config))
    }

    /// Rules whose every `match` condition holds for `event`, in config order.
    public func matchingRules(_ event: CloudEvent) -> [Rule] {
        config.rules.filter { rule in rule.match.allSatisfy { Self.holds($0, for: event) } }
    }

    static func holds(_ condition: MatchCondition, for event: CloudEvent) -> Bool {
        let value = event.value(at: condition.path)
        switch condition.test {
        case .present(let wanted):
            let present = value != nil && value != .null
            return present == wanted
        case .oneOf(let options):
            guard let text = value?.scalarText else { return false }
            return options.contains(text)
        }
    }

    /// Every delivery `event` causes at `now`: one per (rule, action, recipient, send time).
    /// Those that cannot be built are `.held` with a reason and no payload.
    public func plan(event: CloudEvent, now: Date) -> [Delivery] {
        var deliveries: [Delivery] = []
        for rule in matchingRules(event) {
            let timing = timing(for: rule, event: event, now: now)
            for (index, action) in rule.send.enumerated() {
                let limits = rule.recipientLimits[index] ?? EventRecipientLimits()
                for recipient in recipients(of: action, event: event, limits: limits) {
                    deliveries += plan(event: event, rule: rule, action: action, index: index,
                                       recipient: recipient, timing: timing, now: now)
                }
            }
        }
        // Recipient names are unique per action and reminder times per rule, so ids are too;
        // this keeps one insert of the journal from ever meeting the same id twice.
        var ids: Set<DeliveryID> = []
        return deliveries.filter { ids.insert($0.id).inserted }.map { withDeadline($0, event: event, now: now) }
    }

    /// A rule's `not_after`: its deliveries expire that long after the event's `time` (its
    /// arrival when it has none), whatever their own schedule.
    func withDeadline(_ delivery: Delivery, event: CloudEvent, now: Date) -> Delivery {
        guard let notAfter = config.rules.first(where: { $0.name == delivery.rule })?.notAfter else { return delivery }
        let base = event.time.flatMap(RFC3339.parseDateTime) ?? now
        var limited = delivery
        let deadline = base.addingTimeInterval(notAfter)
        limited.expiresAt = min(delivery.expiresAt ?? deadline, deadline)
        return limited
    }

    /// When a rule's messages go out.
    enum Timing {
        case now
        /// Future reminder sends (past ones already dropped), and the reminded value.
        case reminders([ReminderTime], field: JSONValue)
        /// The reminded field is missing or not a date.
        case invalid(String)
    }

    func timing(for rule: Rule, event: CloudEvent, now: Date) -> Timing {
        guard let remind = rule.remind else { return .now }
        guard let value = event.value(at: remind.field), value != .null else {
            return .invalid("rule \"\(rule.name)\": the reminded field \(remind.field) is missing from the event")
        }
        guard let text = value.stringValue, let date = EventDate(text) else {
            let shown = value.scalarText.map { "\"\($0.prefix(60))\"" } ?? "a JSON container"
            return .invalid("rule \"\(rule.name)\": the reminded field \(remind.field) is \(shown), not a date (2026-12-15) or an RFC 3339 date-time")
        }
        let times = ReminderTime.schedule(deadline: date, beforeDays: remind.beforeDays,
                                          atMinutes: remind.atMinutes, timeZone: config.timezone,
                                          shift: remind.shift)
        return .reminders(times.filter { $0.sendAt >= now }, field: value)
    }

    /// One recipient of an action: an address, an endpoint, or an entry that cannot be used.
    enum Recipient: Equatable, Sendable {
        /// The bare address (the delivery's recipient), the mailbox as written, for `To`, and
        /// the data the event gave with it (`to: [data.FIELD]`).
        case address(String, mailbox: Mailbox, details: RecipientDetails? = nil)
        case endpoint(String)
        case unusable(String, reason: String)

        var name: String {
            switch self {
            case .address(let a, _, _): return a
            case .endpoint(let e): return e
            case .unusable(let n, _): return n
            }
        }
    }

    /// Expands list names and `data.FIELD` entries (recipients the event names, within
    /// `limits`), keeps each address once (domain compared case-insensitively).
    func recipients(of action: Action, event: CloudEvent? = nil,
                    limits: EventRecipientLimits = EventRecipientLimits()) -> [Recipient] {
        switch action {
        case .webhook(let endpoint, _):
            if config.webhooks[endpoint] == nil {
                return [.unusable(endpoint, reason: "webhook endpoint \"\(endpoint)\" is not defined under webhooks")]
            }
            return [.endpoint(endpoint)]
        case .email(let to, _):
            var collector = RecipientCollector()
            for entry in to {
                if entry.hasPrefix("data.") {
                    eventRecipients(entry, in: event, limits: limits).forEach { collector.add($0) }
                } else if entry.contains("@") {
                    collector.add(Self.recipient(entry))
                } else if let list = lists[entry] {
                    list.forEach { collector.add($0) }
                } else {
                    collector.add(.unusable(entry, reason: "recipient list \"\(entry)\" is not defined under recipients"))
                }
            }
            return collector.recipients
        }
    }

    /// An address (with the display name as written), or why the text is not one.
    static func recipient(_ text: String, details: RecipientDetails? = nil) -> Recipient {
        do {
            let mailbox = try Mailbox.parse(text)
            return .address(mailbox.address, mailbox: mailbox, details: details)
        } catch {
            return .unusable(text, reason: "recipient \"\(text)\" is not a usable address: \(error)")
        }
    }

    func plan(event: CloudEvent, rule: Rule, action: Action, index: Int, recipient: Recipient,
              timing: Timing, now: Date) -> [Delivery] {
        let channel: Channel
        switch action {
        case .email: channel = .email
        case .webhook: channel = .webhook
        }
        func delivery(_ scheduled: Date?, _ result: Result<DeliveryPayload, DeliveryHold>) -> Delivery {
            let id = DeliveryID.derive(event: event.key, rule: rule.name, action: index,
                                       recipient: recipient.name, scheduledAt: scheduled)
            switch result {
            case .success(let payload):
                return Delivery(id: id, event: event.key, rule: rule.name, action: index, channel: channel,
                                recipient: recipient.name, notBefore: scheduled ?? now, state: .pending, payload: payload)
            case .failure(let hold):
                return Delivery(id: id, event: event.key, rule: rule.name, action: index, channel: channel,
                                recipient: recipient.name, notBefore: scheduled ?? now, state: .held,
                                payload: nil, reason: hold.reason)
            }
        }
        if case .unusable(_, let reason) = recipient {
            return [delivery(nil, .failure(DeliveryHold(reason: reason)))]
        }
        switch timing {
        case .now:
            return [delivery(nil, render(event: event, rule: rule, action: action, index: index, recipient: recipient,
                                         reminder: nil, field: nil))]
        case .invalid(let reason):
            return [delivery(nil, .failure(DeliveryHold(reason: reason)))]
        case .reminders(let times, let field):
            return times.map { time in
                delivery(time.sendAt, render(event: event, rule: rule, action: action, index: index, recipient: recipient,
                                             reminder: time, field: field))
            }
        }
    }
}

/// Why a delivery is held instead of sent.
struct DeliveryHold: Error {
    var reason: String
}
