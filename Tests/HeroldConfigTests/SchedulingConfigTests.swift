import Foundation
import HeroldConfig
import XCTest

final class SchedulingConfigTests: XCTestCase {
    func load(_ yaml: String) throws(ConfigErrors) -> HeroldConfig {
        try ConfigLoader.load(text: yaml, file: "/srv/herold/herold.yaml", environment: [:])
    }

    func testShiftOnRemindAndCalendarAndGrace() throws {
        let config = try load("""
            smtp: { outbox: ./outbox, from: "P <p@example.org>" }
            grace: 2h
            rules:
              - name: r
                match: { type: contest.deadline }
                remind: { field: data.deadline, before: [7d], at: "09:00", shift: previous }
                send: [ { email: { to: [a@example.org], template: t } } ]
            calendar:
              - { name: Dzień, date: "11-01", type: day.x, shift: next }
              - { name: Inny, date: "11-02", type: day.y }
            """)
        XCTAssertEqual(config.grace, 7200)
        XCTAssertEqual(config.rules.first?.remind?.shift, .previous)
        XCTAssertEqual(config.calendar.map(\.shift), [.next, .none])
    }

    func testDefaultGraceIsSixHours() throws {
        XCTAssertEqual(try load("spool: ./s\n").grace, 6 * 3600)
    }

    func testBadShiftAndGraceAreReportedWithAFix() {
        do {
            _ = try load("""
                grace: soon
                calendar:
                  - { name: Dzień, date: "11-01", type: day.x, shift: later }
                """)
            XCTFail("expected refusal")
        } catch {
            XCTAssertEqual(error.issues.map(\.line), [1, 3], "\(error)")
            XCTAssertTrue(error.issues[0].message.contains("is not a duration"))
            XCTAssertEqual(error.issues[1].fix, "write previous (the working day before), next (the working day after) or none")
        }
    }
}
