import Foundation
import HeroldConfig
import HeroldCore
import HeroldRules

/// One planned send for `herold upcoming`: a delivery in the journal (a reminder, a retry),
/// or a send a calendar date will cause (not in the journal until its day comes).
public struct UpcomingItem: Sendable {
    /// When it goes out.
    public let sendAt: Date
    /// Local wall-clock time, with its UTC offset.
    public let localTime: String
    /// The delivery, for a send already planned in the journal.
    public let delivery: Delivery?
    /// The calendar occurrence, for a send the calendar will cause.
    public let occurrence: CalendarOccurrence?
    /// Rules that match the calendar event, with their recipients (email addresses, endpoint names).
    public let calendarSends: [(rule: String, channel: Channel, recipients: [String])]

    init(delivery: Delivery, timezone: TimeZone) {
        self.sendAt = delivery.notBefore
        self.localTime = WallClock.format(delivery.notBefore, in: timezone)
        self.delivery = delivery
        self.occurrence = nil
        self.calendarSends = []
    }

    init(occurrence: CalendarOccurrence, sends: [(rule: String, channel: Channel, recipients: [String])], timezone: TimeZone) {
        self.sendAt = occurrence.at
        self.localTime = WallClock.format(occurrence.at, in: timezone)
        self.delivery = nil
        self.occurrence = occurrence
        self.calendarSends = sends
    }

    /// Calendar occurrences in `(after, through]`, each with the rules its event would match.
    /// Templates are not needed: only matching and recipients.
    static func calendar(config: HeroldConfig, after: Date, through: Date) -> [UpcomingItem] {
        let engine = RuleEngine(config: config, templates: TemplateSet())
        return CalendarPlanner.occurrences(after: after, through: through, entries: config.calendar,
                                           timeZone: config.timezone).map { occurrence in
            var sends: [(rule: String, channel: Channel, recipients: [String])] = []
            if let event = try? CalendarPlanner.event(for: occurrence) {
                for delivery in engine.plan(event: event, now: occurrence.at) {
                    if let index = sends.firstIndex(where: { $0.rule == delivery.rule && $0.channel == delivery.channel }) {
                        sends[index].recipients.append(delivery.recipient)
                    } else {
                        sends.append((delivery.rule, delivery.channel, [delivery.recipient]))
                    }
                }
            }
            return UpcomingItem(occurrence: occurrence, sends: sends, timezone: config.timezone)
        }
    }

    public var json: [String: Any] {
        if let delivery {
            var fields: [String: Any] = [
                "kind": "delivery",
                "id": delivery.id.rawValue, "send_at": RFC3339.format(delivery.notBefore), "local_time": localTime,
                "rule": delivery.rule, "channel": delivery.channel.rawValue, "recipient": delivery.recipient,
                "event_source": delivery.event.source, "event_id": delivery.event.id, "state": delivery.state.rawValue,
                "attempts": delivery.attempts,
            ]
            // A deferred delivery's last transient error, and the moment it stops being sent at all.
            if let reason = delivery.reason { fields["reason"] = reason }
            if let expiresAt = delivery.expiresAt { fields["expires_at"] = RFC3339.format(expiresAt) }
            return fields
        }
        guard let occurrence else { return [:] }
        return [
            "kind": "calendar", "send_at": RFC3339.format(occurrence.at), "local_time": localTime,
            "calendar": occurrence.entry.name, "type": occurrence.entry.type,
            "event_source": CalendarPlanner.source, "event_id": occurrence.eventID,
            "rules": calendarSends.map { ["rule": $0.rule, "channel": $0.channel.rawValue, "recipients": $0.recipients] as [String: Any] },
        ]
    }

    public var text: String {
        if let delivery {
            return "\(localTime)  \(delivery.rule)  \(delivery.channel.rawValue) → \(delivery.recipient)  (event \(delivery.event.id))"
        }
        guard let occurrence else { return localTime }
        let sends = calendarSends.isEmpty ? "no rule matches"
            : calendarSends.map { "\($0.rule) \($0.channel.rawValue) → \($0.recipients.joined(separator: ", "))" }.joined(separator: "; ")
        return "\(localTime)  calendar \"\(occurrence.entry.name)\" (\(occurrence.entry.type))  \(sends)  (event \(occurrence.eventID))"
    }
}
