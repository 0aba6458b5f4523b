import Foundation
import HeroldConfig
import HeroldCore
import HeroldStore
import Logging

/// What herold does with sends it missed while it was down: a reminder still within
/// `grace` of its time goes out late; one older than that is not sent any more (a
/// reminder "7 days left" two days late would mislead) but ends as `failed` with the reason.
enum DowntimeGrace {
    /// Why a missed send was not sent.
    static func reason(dueAt: Date, timeZone: TimeZone) -> String {
        "expired: due at \(WallClock.format(dueAt, in: timeZone)), herold was down"
    }

    /// Of freshly claimed deliveries, marks the missed reminders past grace failed and
    /// returns the others. Only a first attempt counts: a retry is late by design.
    static func expireMissed(_ claimed: [Delivery], config: HeroldConfig, journal: Journal, now: Date,
                             logger: Logger) async -> [Delivery] {
        let reminderRules = Set(config.rules.filter { $0.remind != nil }.map(\.name))
        var live: [Delivery] = []
        for delivery in claimed {
            guard delivery.attempts == 1, reminderRules.contains(delivery.rule),
                  now.timeIntervalSince(delivery.notBefore) > config.grace else {
                live.append(delivery)
                continue
            }
            let message = reason(dueAt: delivery.notBefore, timeZone: config.timezone)
            do {
                try await journal.markExpired(delivery.id, reason: message, at: now)
                logger.warning("missed reminder not sent: past the grace period", metadata: [
                    "delivery.id": "\(delivery.id)", "rule": "\(delivery.rule)", "recipient": "\(delivery.recipient)",
                    "due_at": "\(RFC3339.format(delivery.notBefore))", "grace_s": "\(Int(config.grace))",
                ])
            } catch {
                // Left in flight: taken up again (and judged again) after a restart.
                logger.critical("cannot record an expired reminder in the journal", metadata: ["error": "\(error)"])
            }
        }
        return live
    }
}
