import Foundation
import HeroldCore
@testable import HeroldDaemon
import HeroldStore
import Logging
import Synchronization
import XCTest

/// The calendar and the downtime grace over a manual clock: years pass without sleeping.
final class CalendarServiceTests: XCTestCase {
    private var site: TestSite!
    override func setUpWithError() throws {
        site = try TestSite(name: "calendar-unit", smtpPort: 2, httpPort: 3, extraYAML: """
              - name: zyczenia
                match: { type: day.social-worker }
                send:
                  - email: { to: [partners], template: laureaci }
              - name: przypomnienia
                match: { type: contest.deadline }
                remind: { field: data.deadline, before: [7d, 1d], at: "09:00" }
                send:
                  - email: { to: [partners], template: laureaci }
            calendar:
              - name: Dzień Pracownika Socjalnego
                date: "11-21"
                at: "08:00"
                type: day.social-worker
            """)
    }
    override func tearDown() { site.remove() }

    private func service(_ journal: Journal, _ clock: ManualClock, _ runtime: Runtime, bell: Doorbell = Doorbell()) -> CalendarService {
        CalendarService(journal: journal, logger: Logger(label: "test"), now: clock.closure, runtime: { runtime },
                        dispatcherBell: bell, wake: Doorbell(), isStopping: { false })
    }

    private func date(_ text: String) -> Date { RFC3339.parseDateTime(text)! }

    private func emitted(_ journal: Journal, _ clock: ManualClock, _ runtime: Runtime) async -> Int {
        await service(journal, clock, runtime).tick(runtime: runtime).emitted.count
    }

    private func count(_ journal: Journal, _ state: DeliveryState? = nil) async throws -> Int {
        let counts = try await journal.counts()
        return state.map { counts[$0] ?? 0 } ?? counts.values.reduce(0, +)
    }

    func testSocialWorkerDayOverThreeYearsWithRestartsGreetsOncePerYear() async throws {
        let runtime = try Runtime.load(configPath: site.configPath, logger: Logger(label: "test"))
        let state = site.root.appendingPathComponent("state")
        let clock = ManualClock(date("2026-11-01T10:00:00Z"))
        var journal = try Journal(directory: state)
        // A new install: last year's date is before herold was in service, nothing happens.
        var tick = await service(journal, clock, runtime).tick(runtime: runtime)
        XCTAssertEqual(tick.emitted.count, 0)
        let total = try await count(journal)
        XCTAssertEqual(total, 0)

        clock.set(date("2026-11-21T07:00:00Z"))   // 08:00 in Warsaw
        let bell = Doorbell()
        tick = await service(journal, clock, runtime, bell: bell).tick(runtime: runtime)
        XCTAssertEqual(tick.emitted.map(\.eventID), ["dzien-pracownika-socjalnego-2026"])
        let pending2 = try await count(journal, .pending)
        XCTAssertEqual(pending2, 2, "one greeting for each of the two partners")
        clock.advance(by: 60)
        let none1 = await emitted(journal, clock, runtime)
        XCTAssertEqual(none1, 0)

        // Restart (a new journal connection and service) an hour later, still within grace: nothing again.
        try journal.close()
        journal = try Journal(directory: state)
        clock.advance(by: 3600)
        let none3 = await emitted(journal, clock, runtime)
        XCTAssertEqual(none3, 0)

        // 2027: herold was down over the day and starts 2 hours late: sent late, once.
        clock.set(date("2027-11-21T09:00:00Z"))
        tick = await service(journal, clock, runtime).tick(runtime: runtime)
        XCTAssertEqual(tick.emitted.map(\.eventID), ["dzien-pracownika-socjalnego-2027"])
        let pending4 = try await count(journal, .pending)
        XCTAssertEqual(pending4, 4)

        // 2028: down for more than the 6 h grace: not sent, but shown as failed with the reason.
        clock.set(date("2028-11-21T15:00:00Z"))
        tick = await service(journal, clock, runtime).tick(runtime: runtime)
        XCTAssertEqual(tick.emitted.count, 0)
        let counts = try await journal.counts()
        XCTAssertEqual(counts[.pending], 4)
        XCTAssertEqual(counts[.failed], 2)
        let failed = try await journal.deliveries(in: [.failed], limit: 10)
        XCTAssertEqual(failed.first?.reason, "expired: due at 2028-11-21 08:00 +01:00, herold was down")
        XCTAssertEqual(failed.first?.event.id, "dzien-pracownika-socjalnego-2028")
        // And it stays that way after another restart.
        clock.advance(by: 3600)
        let none5 = await emitted(journal, clock, runtime)
        XCTAssertEqual(none5, 0)
        let failed2 = try await count(journal, .failed)
        XCTAssertEqual(failed2, 2)
    }

    /// A wake a millisecond before the minute (the sleep is on the monotonic clock, the
    /// calendar on the wall clock): the look finds the date not yet due, and by the time it
    /// asks when to wake next the minute has passed. It must look again at once — not sleep
    /// until next year's date, which is how Social Worker Day would be missed.
    func testAWakeJustBeforeTheMinuteStillSendsTheGreetingThatMinute() async throws {
        let runtime = try Runtime.load(configPath: site.configPath, logger: Logger(label: "test"))
        let journal = try Journal(directory: site.root.appendingPathComponent("state"))
        let due = date("2026-11-21T07:00:00Z")   // 08:00 in Warsaw
        // Every reading of the clock moves it 0.4 ms on: the look starts 0.5 ms before the
        // minute and its check of the date reads 0.1 ms before it; any later reading is past it.
        let readings = Mutex(0)
        let clock: @Sendable () -> Date = {
            let n = readings.withLock { value -> Int in value += 1; return value }
            return due.addingTimeInterval(-0.0005 + Double(n - 1) * 0.0004)
        }
        let bell = Doorbell()
        let calendar = CalendarService(journal: journal, logger: Logger(label: "test"), now: clock, runtime: { runtime },
                                       dispatcherBell: bell, wake: Doorbell(), isStopping: { false })
        let sleep = await calendar.step(runtime: runtime)
        let before = try await count(journal)
        XCTAssertEqual(before, 0, "not due yet when the look began")
        XCTAssertLessThanOrEqual(sleep, 0.01, "the calendar slept \(sleep) s past the greeting's minute")

        let later = CalendarService(journal: journal, logger: Logger(label: "test"), now: { due.addingTimeInterval(0.01) },
                                    runtime: { runtime }, dispatcherBell: bell, wake: Doorbell(), isStopping: { false })
        let following = await later.step(runtime: runtime)
        let pending = try await count(journal, .pending)
        XCTAssertEqual(pending, 2, "the greeting went out in its minute")
        XCTAssertGreaterThan(following, 3000, "then it sleeps (at most an hour at a time) towards next year's")
    }

    func testMissedReminderPastGraceExpiresAtClaimAndOneWithinGraceIsSent() async throws {
        let runtime = try Runtime.load(configPath: site.configPath, logger: Logger(label: "test"))
        let journal = try Journal(directory: site.root.appendingPathComponent("state"))
        let event = try CloudEvent(attributes: [
            "specversion": .string("1.0"), "id": .string("k1"), "source": .string("/cms"),
            "type": .string("contest.deadline"), "subject": .string("lider"),
            "data": .object(["deadline": .string("2026-12-15")]),
        ])
        let planned = runtime.plan(event, now: date("2026-11-23T10:00:00Z"))
        XCTAssertEqual(planned.count, 4, "two reminders for two partners")
        _ = try await journal.record([(event, planned)], receivedAt: date("2026-11-23T10:00:00Z"))

        // Herold was down from before 8 Dec 09:00 (08:00Z) until 14 Dec 10:00Z: the 7-day
        // reminders are 6 days late, the 1-day ones (14 Dec 08:00Z) only 2 hours.
        let now = date("2026-12-14T10:00:00Z")
        let claim = try await journal.claim(now: now, limit: 10, lateness: runtime.lateness)
        XCTAssertEqual(claim.claimed.map(\.notBefore), Array(repeating: date("2026-12-14T08:00:00Z"), count: 2),
                       "the 1-day reminders, 2 h late, go out")
        XCTAssertEqual(claim.expired.count, 2, "the 7-day ones, 6 days late, are decided too late in the same claim")
        let failed = try await journal.deliveries(in: [.failed], limit: 10)
        XCTAssertEqual(failed.count, 2)
        XCTAssertEqual(failed.first?.reason, "expired: due at 2026-12-08 09:00 +01:00, herold was down")
    }
}
