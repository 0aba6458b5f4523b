import Foundation
import HeroldCore

/// What a template sees: `data`, `event`, `recipient`, `rule` and, for reminders, `reminder`.
public struct TemplateContext: Sendable, Equatable {
    /// The whole context as JSON, so every value is escaped the same way.
    public var root: JSONValue
    /// Dates are shown in this zone.
    public var timeZone: TimeZone

    /// A context from a ready JSON root (for previews and tests).
    public init(root: JSONValue, timeZone: TimeZone) {
        self.root = root
        self.timeZone = timeZone
    }

    /// The context for one message: `recipient` is `{address}` for email, `{endpoint}` for a webhook.
    public init(event: CloudEvent, rule: String, recipient: [String: String], reminder: ReminderTime?,
                reminderField: JSONValue?, timeZone: TimeZone) {
        var eventObject: [String: JSONValue] = [
            "id": .string(event.id), "source": .string(event.source), "type": .string(event.type),
        ]
        if let subject = event.subject { eventObject["subject"] = .string(subject) }
        if let time = event.time { eventObject["time"] = .string(time) }
        if let contentType = event.datacontenttype { eventObject["datacontenttype"] = .string(contentType) }
        var root: [String: JSONValue] = [
            "data": event.data ?? .null,
            "event": .object(eventObject),
            "recipient": .object(recipient.mapValues { .string($0) }),
            "rule": .object(["name": .string(rule)]),
        ]
        if let reminder {
            let n = reminder.daysLeft
            root["reminder"] = .object([
                "days_left": .int(Int64(n)),
                "dni": .string(PolishNoun.dni.counted(n)),
                "za_ile": .string(PolishDaysLeft.text(n)),
                "termin": reminderField ?? .null,
                "send_at": .string(RFC3339.format(reminder.sendAt)),
            ])
        }
        self.init(root: .object(root), timeZone: timeZone)
    }
}
