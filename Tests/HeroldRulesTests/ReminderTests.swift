import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

final class ReminderTests: XCTestCase {
    let files = [
        "termin/subject.mustache": "Nabór kończy się {{pl_data(reminder.termin)}} ({{reminder.za_ile}})\n",
        "termin/text.mustache": "Zostało: {{reminder.dni}}, dni: {{reminder.days_left}}\n",
    ]

    func engine(before: [Int], at minutes: Int, to: [String] = ["gops@example.org"]) throws -> RuleEngine {
        let rule = Rule(name: "przypomnienie-o-terminie",
                        match: [MatchCondition(path: "type", test: .oneOf(["contest.deadline"]))],
                        remind: Remind(field: "data.deadline", beforeDays: before, atMinutes: minutes),
                        send: [.email(to: to, template: "termin")])
        return try Fixtures.engine(rules: [rule], files: files)
    }

    func plan(deadline: JSONValue?, before: [Int], at minutes: Int, now: String) throws -> [Delivery] {
        let data: [String: JSONValue] = deadline.map { ["deadline": $0] } ?? [:]
        return try engine(before: before, at: minutes).plan(event: try Fixtures.event(data: data), now: Fixtures.date(now))
    }

    func testThreeRemindersAtNineWarsawTime() throws {
        let plan = try plan(deadline: "2026-12-15", before: [14, 7, 1], at: 9 * 60, now: "2026-11-23T09:00:00Z")
        XCTAssertEqual(plan.map(\.notBefore), [Fixtures.date("2026-12-01T08:00:00Z"),
                                               Fixtures.date("2026-12-08T08:00:00Z"),
                                               Fixtures.date("2026-12-14T08:00:00Z")])
        XCTAssertTrue(plan.allSatisfy { $0.state == .pending })
        XCTAssertEqual(Set(plan.map(\.id)).count, 3)
        XCTAssertEqual(plan[1].id, DeliveryID.derive(event: plan[1].event, rule: "przypomnienie-o-terminie", action: 0,
                                                     recipient: "gops@example.org", scheduledAt: plan[1].notBefore))
        guard case .email(let mail)? = plan[1].payload else { return XCTFail("no email") }
        XCTAssertEqual(mail.subject, "Nabór kończy się 15 grudnia 2026 r. (za 7 dni)")
        XCTAssertEqual(mail.text, "Zostało: 7 dni, dni: 7\n")
        guard case .email(let last)? = plan[2].payload else { return XCTFail("no email") }
        XCTAssertEqual(last.subject, "Nabór kończy się 15 grudnia 2026 r. (jutro)")
        XCTAssertEqual(last.text, "Zostało: 1 dzień, dni: 1\n")
    }

    func testRemindersAcrossTheAutumnChangeKeepLocalTime() throws {
        // 2026-10-25: clocks go back. 14 days before is still summer time, 7 days before is winter time.
        let plan = try plan(deadline: "2026-11-05", before: [14, 7], at: 9 * 60, now: "2026-10-01T00:00:00Z")
        XCTAssertEqual(plan.map(\.notBefore), [Fixtures.date("2026-10-22T07:00:00Z"), Fixtures.date("2026-10-29T08:00:00Z")])
    }

    func testAmbiguousHalfPastTwoOnTheLastSundayOfOctoberIsSentOnceAtTheFirstOccurrence() throws {
        let plan = try plan(deadline: "2026-10-26", before: [1], at: 2 * 60 + 30, now: "2026-10-01T00:00:00Z")
        XCTAssertEqual(plan.count, 1)
        XCTAssertEqual(plan[0].notBefore, Fixtures.date("2026-10-25T00:30:00Z")) // 02:30 CEST
    }

    func testNonexistentHalfPastTwoInMarchMovesToTheNextValidTime() throws {
        let plan = try plan(deadline: "2026-03-30", before: [1], at: 2 * 60 + 30, now: "2026-03-01T00:00:00Z")
        XCTAssertEqual(plan.count, 1)
        XCTAssertEqual(plan[0].notBefore, Fixtures.date("2026-03-29T01:00:00Z")) // 03:00 CEST
    }

    func testLeapDay2028() throws {
        let fromFirstOfMarch = try plan(deadline: "2028-03-01", before: [1, 2], at: 9 * 60, now: "2028-01-01T00:00:00Z")
        XCTAssertEqual(fromFirstOfMarch.map(\.notBefore), [Fixtures.date("2028-02-28T08:00:00Z"), Fixtures.date("2028-02-29T08:00:00Z")])
        let onLeapDay = try plan(deadline: "2028-02-29", before: [7, 0], at: 9 * 60, now: "2028-01-01T00:00:00Z")
        XCTAssertEqual(onLeapDay.map(\.notBefore), [Fixtures.date("2028-02-22T08:00:00Z"), Fixtures.date("2028-02-29T08:00:00Z")])
        guard case .email(let mail)? = onLeapDay[1].payload else { return XCTFail("no email") }
        XCTAssertEqual(mail.subject, "Nabór kończy się 29 lutego 2028 r. (dziś)")
    }

    func testPastOffsetsAreSkipped() throws {
        let plan = try plan(deadline: "2026-12-15", before: [14, 7, 1], at: 9 * 60, now: "2026-12-10T12:00:00Z")
        XCTAssertEqual(plan.map(\.notBefore), [Fixtures.date("2026-12-14T08:00:00Z")])
        let allPast = try self.plan(deadline: "2026-12-15", before: [14, 7, 1], at: 9 * 60, now: "2026-12-20T00:00:00Z")
        XCTAssertEqual(allPast, [])
    }

    func testDateTimeDeadlineUsesItsLocalDay() throws {
        // 23:30 UTC on the 15th is already the 16th in Warsaw.
        let plan = try plan(deadline: "2026-12-15T23:30:00Z", before: [1], at: 9 * 60, now: "2026-11-23T00:00:00Z")
        XCTAssertEqual(plan.map(\.notBefore), [Fixtures.date("2026-12-15T08:00:00Z")])
        guard case .email(let mail)? = plan[0].payload else { return XCTFail("no email") }
        XCTAssertEqual(mail.subject, "Nabór kończy się 16 grudnia 2026 r. (jutro)")
    }

    func testMissingOrInvalidFieldHoldsOneDeliveryPerRecipientNamingTheField() throws {
        for deadline: JSONValue? in [nil, "15.12.2026", .int(20261215), .null] {
            let engine = try engine(before: [14, 7, 1], at: 540, to: ["gops@example.org", "pcpr@example.org"])
            let data: [String: JSONValue] = deadline.map { ["deadline": $0] } ?? [:]
            let plan = engine.plan(event: try Fixtures.event(data: data), now: Fixtures.date("2026-11-23T09:00:00Z"))
            XCTAssertEqual(plan.map(\.recipient), ["gops@example.org", "pcpr@example.org"], "\(String(describing: deadline))")
            XCTAssertTrue(plan.allSatisfy { $0.state == .held && $0.payload == nil })
            XCTAssertTrue(plan.allSatisfy { $0.reason?.contains("data.deadline") ?? false }, "\(plan.map(\.reason))")
        }
    }

    func testLocalTimeResolutionDirectly() {
        let tz = Fixtures.warsaw
        XCTAssertEqual(LocalTime.instant(on: LocalDate(year: 2026, month: 7, day: 1), atMinutes: 0, in: tz),
                       Fixtures.date("2026-06-30T22:00:00Z"))
        XCTAssertEqual(LocalTime.instant(on: LocalDate(year: 2026, month: 1, day: 1), atMinutes: 23 * 60 + 59, in: tz),
                       Fixtures.date("2026-01-01T22:59:00Z"))
        // The hour after the autumn change exists once more, in winter time.
        XCTAssertEqual(LocalTime.instant(on: LocalDate(year: 2026, month: 10, day: 25), atMinutes: 3 * 60, in: tz),
                       Fixtures.date("2026-10-25T02:00:00Z"))
        XCTAssertEqual(LocalDate(year: 2028, month: 3, day: 1).adding(days: -1), LocalDate(year: 2028, month: 2, day: 29))
        XCTAssertEqual(LocalDate(year: 2027, month: 3, day: 1).adding(days: -1), LocalDate(year: 2027, month: 2, day: 28))
    }
}
