import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

final class SchedulingTests: XCTestCase {
    let warsaw = Fixtures.warsaw

    func day(_ text: String) -> LocalDate { LocalDate(text)! }

    // MARK: holidays

    func testEasterForKnownYears() {
        XCTAssertEqual(PolishHolidays.easter(2026), day("2026-04-05"))
        XCTAssertEqual(PolishHolidays.easter(2027), day("2027-03-28"))
        XCTAssertEqual(PolishHolidays.easter(2028), day("2028-04-16"))
        XCTAssertEqual(PolishHolidays.easter(2025), day("2025-04-20"))
    }

    func testHolidays2026To2028() {
        XCTAssertEqual(PolishHolidays.holidays(in: 2026).map(\.date.description), [
            "2026-01-01", "2026-01-06", "2026-04-05", "2026-04-06", "2026-05-01", "2026-05-03", "2026-05-24",
            "2026-06-04", "2026-08-15", "2026-11-01", "2026-11-11", "2026-12-24", "2026-12-25", "2026-12-26",
        ])
        let movable2027 = PolishHolidays.holidays(in: 2027).filter { ["Poniedziałek Wielkanocny", "Zielone Świątki", "Boże Ciało"].contains($0.name) }
        XCTAssertEqual(movable2027.map(\.date.description), ["2027-03-29", "2027-05-16", "2027-05-27"])
        let movable2028 = PolishHolidays.holidays(in: 2028).filter { ["Poniedziałek Wielkanocny", "Zielone Świątki", "Boże Ciało"].contains($0.name) }
        XCTAssertEqual(movable2028.map(\.date.description), ["2028-04-17", "2028-06-04", "2028-06-15"])
        XCTAssertFalse(PolishHolidays.isHoliday(day("2024-12-24")), "Christmas Eve is a holiday only from 2025")
        XCTAssertTrue(PolishHolidays.isHoliday(day("2025-12-24")))
    }

    func testSendsOnHolidaysAndWeekendsMoveToAWorkingDay() {
        // 1 November 2026 is a Sunday; Monday 2 November is a working day.
        XCTAssertEqual(WorkingDay.shift(day("2026-11-01"), .next), day("2026-11-02"))
        XCTAssertEqual(WorkingDay.shift(day("2026-11-01"), .previous), day("2026-10-30"))
        // Easter Monday 2027: back over the Easter weekend to Good Friday, or on to Tuesday.
        XCTAssertEqual(WorkingDay.shift(day("2027-03-29"), .previous), day("2027-03-26"))
        XCTAssertEqual(WorkingDay.shift(day("2027-03-29"), .next), day("2027-03-30"))
        // Christmas 2027: 24 (Fri) to 26 (Sun) are off; the previous working day is Thursday the 23rd.
        XCTAssertEqual(WorkingDay.shift(day("2027-12-25"), .previous), day("2027-12-23"))
        XCTAssertEqual(WorkingDay.shift(day("2026-11-01"), .none), day("2026-11-01"))
        XCTAssertEqual(WorkingDay.shift(day("2026-11-03"), .next), day("2026-11-03"))
    }

    // MARK: reminders

    func testReminderOnAHolidayIsShiftedAndSaysTheTrueDaysLeft() {
        // Deadline Monday 8 Nov 2027 − 7 days = Monday 1 Nov (holiday) → Friday 29 Oct, 10 days before.
        let times = ReminderTime.schedule(deadline: .date(day("2027-11-08")), beforeDays: [7, 1], atMinutes: 9 * 60,
                                          timeZone: warsaw, shift: .previous)
        XCTAssertEqual(times.map(\.sendAt), [Fixtures.date("2027-10-29T07:00:00Z"), Fixtures.date("2027-11-05T08:00:00Z")])
        XCTAssertEqual(times.map(\.daysLeft), [10, 3])
    }

    func testRemindersAcrossTheSpringChangeOverAManualClock() {
        // Deadline 2 April 2027; Warsaw changes to summer time on 28 March 2027.
        let clock = ManualClock(Fixtures.date("2027-03-20T12:00:00Z"))
        let times = ReminderTime.schedule(deadline: .date(day("2027-04-02")), beforeDays: [7, 1], atMinutes: 9 * 60,
                                          timeZone: warsaw).filter { $0.sendAt >= clock.now() }
        XCTAssertEqual(times.map(\.sendAt), [Fixtures.date("2027-03-26T08:00:00Z"), Fixtures.date("2027-04-01T07:00:00Z")])
        clock.advance(by: 7 * 86400)
        XCTAssertEqual(times.filter { $0.sendAt >= clock.now() }.count, 1, "a week later only the last one is still ahead")
    }

    // MARK: calendar

    func entry(_ month: Int, _ day: Int, at minutes: Int = 8 * 60, shift: WorkdayShift = .none) -> CalendarEntry {
        CalendarEntry(name: "Dzień Pracownika Socjalnego", month: month, day: day, atMinutes: minutes,
                      type: "day.social-worker", data: ["hasło": .string("Dziękujemy")], shift: shift)
    }

    func testSocialWorkerDayOverThreeYearsOneOccurrenceEach() {
        let clock = ManualClock(Fixtures.date("2026-01-01T00:00:00Z"))
        var seen: [String] = []
        while let next = CalendarPlanner.next(after: clock.now(), entries: [entry(11, 21)], timeZone: warsaw),
              next.year <= 2028 {
            seen.append("\(next.eventID) \(RFC3339.format(next.at))")
            clock.set(next.at)
        }
        XCTAssertEqual(seen, [
            "dzien-pracownika-socjalnego-2026 2026-11-21T07:00:00Z",
            "dzien-pracownika-socjalnego-2027 2027-11-21T07:00:00Z",
            "dzien-pracownika-socjalnego-2028 2028-11-21T07:00:00Z",
        ])
    }

    func testLeapDayEntryFallsOn28FebruaryInOtherYears() {
        let leap = entry(2, 29, at: 9 * 60)
        XCTAssertEqual(CalendarPlanner.occurrence(of: leap, year: 2027, timeZone: warsaw).day, day("2027-02-28"))
        XCTAssertEqual(CalendarPlanner.occurrence(of: leap, year: 2028, timeZone: warsaw).day, day("2028-02-29"))
        let found = CalendarPlanner.occurrences(after: Fixtures.date("2027-01-01T00:00:00Z"),
                                                through: Fixtures.date("2029-01-01T00:00:00Z"), entries: [leap], timeZone: warsaw)
        XCTAssertEqual(found.map(\.at), [Fixtures.date("2027-02-28T08:00:00Z"), Fixtures.date("2028-02-29T08:00:00Z")])
    }

    func testShiftedCalendarEntryAndLatestOccurrence() {
        let allSaints = entry(11, 1, shift: .next)
        XCTAssertEqual(CalendarPlanner.occurrence(of: allSaints, year: 2026, timeZone: warsaw).day, day("2026-11-02"))
        let latest = CalendarPlanner.latest(entry(11, 21), atOrBefore: Fixtures.date("2027-06-01T00:00:00Z"), timeZone: warsaw)
        XCTAssertEqual(latest.year, 2026)
        XCTAssertEqual(CalendarPlanner.latest(entry(11, 21), atOrBefore: Fixtures.date("2026-11-21T07:00:00Z"), timeZone: warsaw).year, 2026)
    }

    func testCalendarEventGoesThroughTheRules() throws {
        let occurrence = CalendarPlanner.occurrence(of: entry(11, 21), year: 2026, timeZone: warsaw)
        let event = try CalendarPlanner.event(for: occurrence)
        XCTAssertEqual(event.key, EventKey(source: "herold:calendar", id: "dzien-pracownika-socjalnego-2026"))
        XCTAssertEqual(event.type, "day.social-worker")
        XCTAssertEqual(event.time, "2026-11-21T07:00:00Z")
        XCTAssertEqual(event.data, .object(["hasło": .string("Dziękujemy"), "year": .int(2026)]))
        let rule = Rule(name: "zyczenia", match: [MatchCondition(path: "type", test: .oneOf(["day.social-worker"]))],
                        send: [.email(to: ["partners"], template: "t")])
        let plan = try Fixtures.engine(rules: [rule], files: Fixtures.simpleEmail).plan(event: event, now: occurrence.at)
        XCTAssertEqual(plan.map(\.recipient), ["rops@example.org", "kwp@example.org"])
        XCTAssertTrue(plan.allSatisfy { $0.state == .pending && $0.notBefore == occurrence.at })
        XCTAssertEqual(CalendarPlanner.slug("Święto Łódzkie — 2026!"), "swieto-lodzkie-2026")
    }
}
