import Foundation
import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

/// Event data at the edges of what numbers and dates can hold: never a trap, a held
/// delivery with the reason instead.
final class HostileEventTests: XCTestCase {
    let now = Fixtures.date("2026-11-23T10:00:00Z")

    func plan(text: String, data: [String: JSONValue], remind: Remind? = nil) throws -> [Delivery] {
        let rule = Rule(name: "r", match: [MatchCondition(path: "type", test: .oneOf(["contest.deadline"]))],
                        remind: remind, send: [.email(to: ["rops@example.org"], template: "n")])
        let engine = try Fixtures.engine(rules: [rule], files: ["n/subject.mustache": "Liczba\n", "n/text.mustache": text])
        return engine.plan(event: try Fixtures.event(data: data), now: now)
    }

    func text(_ delivery: Delivery?) -> String? {
        if case .email(let mail)? = delivery?.payload { return mail.text }
        return nil
    }

    func testNumberHelpersHoldExtremeNumbersWithTheReason() throws {
        let extremes: [JSONValue] = [
            "-9223372036854775808", "9223372036854775807", .int(.min), .int(.max),
            "99999999999999999999", "-99999999999999999999", .double(1e300), .double(-1e300),
            "1000000000000000", .int(-1_000_000_000_000_000),
        ]
        for template in ["{{pl_za_ile(data.n)}}\n", "{{plusone(data.n)}}\n", "{{minusone(data.n)}}\n",
                         "{{pl_dni(data.n)}}\n", "{{pl_laureaci(data.n)}}\n", "{{#even(data.n)}}parzysta{{/even(data.n)}}\n"] {
            for value in extremes {
                let deliveries = try plan(text: template, data: ["n": value])
                XCTAssertEqual(deliveries.map(\.state), [.held], "\(template) \(value)")
                let reason = deliveries.first?.reason ?? ""
                XCTAssertTrue(reason.hasPrefix("template n/text.mustache: "), reason)
                XCTAssertTrue(reason.contains("is out of range (whole numbers from -999999999999999 to 999999999999999)"),
                              "\(template) \(value): \(reason)")
            }
        }
    }

    func testNumberHelpersStillWorkUpToTheirRange() throws {
        let cases: [(String, JSONValue, String)] = [
            ("{{pl_za_ile(data.n)}}", "-999999999999999", "999999999999999 dni temu"),
            ("{{pl_za_ile(data.n)}}", .int(7), "za 7 dni"),
            ("{{plusone(data.n)}}", .int(999_999_999_999_999), "1000000000000000"),
            ("{{minusone(data.n)}}", "-999999999999999", "-1000000000000000"),
            ("{{pl_laureaci(data.n)}}", " 22 ", "22 laureaci"),
            ("{{pl_dni(data.n)}}", .double(5), "5 dni"),
        ]
        for (template, value, expected) in cases {
            let deliveries = try plan(text: template + "\n", data: ["n": value])
            XCTAssertEqual(text(deliveries.first), expected + "\n", "\(template) \(value): \(deliveries.first?.reason ?? "")")
        }
        let fraction = try plan(text: "{{pl_dni(data.n)}}\n", data: ["n": .double(2.5)])
        XCTAssertTrue(fraction.first?.reason?.contains("needs a whole number, found 2.5") == true, fraction.first?.reason ?? "")
        XCTAssertEqual(PolishDaysLeft.text(.min), "9223372036854775808 dni temu")
        XCTAssertEqual(PolishPlural.category(.min), .many)
    }

    func testDeadlinesBeyondFourDigitYearsAreHeldNotPlanned() throws {
        let remind = Remind(field: "data.deadline", beforeDays: [3650, 1], atMinutes: 9 * 60, shift: .next)
        for text in ["999999-12-15", "+10000-01-01", "-0001-01-01", "99999-12-31T09:00:00+01:00"] {
            let deliveries = try plan(text: "x\n", data: ["deadline": .string(text)], remind: remind)
            XCTAssertEqual(deliveries.map(\.state), [.held], text)
            XCTAssertTrue(deliveries.first?.reason?.contains("not a date") == true, deliveries.first?.reason ?? "")
        }
        let helper = try plan(text: "{{pl_data(data.deadline)}}\n", data: ["deadline": "999999-12-15"])
        XCTAssertTrue(helper.first?.reason?.contains("\"999999-12-15\" is not a date") == true, helper.first?.reason ?? "")
    }

    func testTheLastAndFirstRepresentableDaysPlanWithoutTrapping() throws {
        let remind = Remind(field: "data.deadline", beforeDays: [3650, 1], atMinutes: 23 * 60 + 59)
        let late = try plan(text: "{{reminder.za_ile}} {{pl_data_dzien(data.deadline)}}\n",
                            data: ["deadline": "9999-12-31T23:59:59-23:59"], remind: remind)
        XCTAssertEqual(late.map(\.state), [.pending, .pending])
        // 9999-12-31 23:59:59 at -23:59 is 2 January 10000, 00:58:59 in Warsaw.
        XCTAssertEqual(text(late.last), "jutro niedziela, 2 stycznia 10000 r.\n")
        // Ten years before year 1: every send is in the past, so nothing is planned.
        let early = try plan(text: "x\n", data: ["deadline": "0000-01-01"], remind: remind)
        XCTAssertEqual(early, [])
        let bc = try plan(text: "{{pl_data_i_godzina(data.t)}}\n", data: ["t": "0000-01-01T00:00:00+23:59"])
        XCTAssertEqual(bc.map(\.state), [.pending])
    }
}
