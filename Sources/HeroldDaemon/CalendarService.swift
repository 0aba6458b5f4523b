import Foundation
import HeroldConfig
import HeroldCore
import HeroldRules
import HeroldStore
import Logging

/// Emits the calendar's yearly events. It sleeps until the next occurrence (woken early by
/// a reload or a stop), and at each wake looks at every entry's latest occurrence: one not
/// yet in the journal is emitted through the same path as spool events (plan, then
/// `journal.record`), so the `(herold:calendar, <slug>-<year>)` key makes it exactly once
/// per year, across restarts. An occurrence missed by more than `grace` (herold was down)
/// is not sent; it is logged, and when herold was already in service then, recorded with
/// its deliveries `failed` ("expired: …") so `herold status` shows it.
struct CalendarService: Sendable {
    let journal: any DeliveryJournal
    let logger: Logger
    let now: @Sendable () -> Date
    let runtime: @Sendable () -> Runtime
    /// The dispatcher's bell, rung when an emitted event planned deliveries.
    let dispatcherBell: Doorbell
    /// This service's bell: a reload or a stop.
    let wake: Doorbell
    let isStopping: @Sendable () -> Bool
    /// Longest single sleep: a guard against a system clock stepped while asleep.
    var longestSleep: TimeInterval = 3600

    func run() async {
        while !isStopping() {
            let seconds = await step(runtime: runtime())
            // Rounded up: a wake a fraction of a millisecond early only looks again.
            await wake.wait(for: .microseconds(Int64((seconds * 1_000_000).rounded(.up))))
        }
    }

    /// One look at the calendar: emits what is due, and says how long to sleep.
    ///
    /// The next occurrence is looked for after the moment the look *began*, not after it
    /// ended: an occurrence that fell due while the look ran (a wake just before the minute,
    /// the journal's reply just after it) is then still ahead, and the next look, 10 ms on,
    /// emits it — instead of sleeping to next year's.
    func step(runtime: Runtime) async -> TimeInterval {
        let began = now()
        let outcome = await tick(runtime: runtime)
        let next = CalendarPlanner.next(after: began, entries: runtime.config.calendar,
                                        timeZone: runtime.config.timezone)
        let longest = outcome.troubled ? 30 : longestSleep
        return min(longest, max(0.01, (next?.at ?? .distantFuture).timeIntervalSince(now())))
    }

    /// What one look at the calendar did.
    struct Tick: Sendable {
        /// Occurrences emitted now, to be sent.
        var emitted: [CalendarOccurrence] = []
        /// The journal could not be read or written: look again soon.
        var troubled = false
    }

    /// Emits every entry's latest occurrence that is due and not yet in the journal.
    @discardableResult
    func tick(runtime: Runtime) async -> Tick {
        let config = runtime.config
        var result = Tick()
        for entry in config.calendar {
            let instant = now()
            let occurrence = CalendarPlanner.latest(entry, atOrBefore: instant, timeZone: config.timezone)
            var logger = logger
            logger[metadataKey: "calendar.entry"] = "\(entry.name)"
            logger[metadataKey: "event.id"] = "\(occurrence.eventID)"
            do {
                let event = try CalendarPlanner.event(for: occurrence)
                if try await journal.contains(event.key) { continue }
                let late = instant.timeIntervalSince(occurrence.at)
                var deliveries = runtime.plan(event, now: instant)
                if late > config.grace {
                    // Record the miss only if herold was in service then; a new install stays quiet.
                    guard let since = try await journal.firstReceivedAt(), since <= occurrence.at else {
                        continue
                    }
                    let reason = runtime.lateness.reason(dueAt: occurrence.at)
                    for index in deliveries.indices {
                        deliveries[index].state = .failed
                        deliveries[index].reason = reason
                    }
                    logger.warning("calendar date missed: past the grace period, not sent", metadata: [
                        "due_at": "\(RFC3339.format(occurrence.at))", "grace_s": "\(Int(config.grace))",
                        "deliveries": "\(deliveries.count)",
                    ])
                }
                let recorded = try await journal.recordReplacing([(event, deliveries)], receivedAt: instant).recorded
                guard !recorded.isEmpty, late <= config.grace else { continue }
                result.emitted.append(occurrence)
                logger.info("calendar event emitted", metadata: [
                    "event.type": "\(event.type)", "due_at": "\(RFC3339.format(occurrence.at))",
                    "deliveries": "\(deliveries.count)",
                ])
                if deliveries.isEmpty {
                    logger.notice("no rule matched the calendar event", metadata: ["event.type": "\(event.type)"])
                } else {
                    dispatcherBell.ring()
                }
            } catch {
                logger.error("cannot emit the calendar event; will try again", metadata: ["error": "\(error)"])
                result.troubled = true
            }
        }
        return result
    }
}
