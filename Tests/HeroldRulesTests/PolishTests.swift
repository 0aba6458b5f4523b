import Foundation
@testable import HeroldRules
import XCTest

final class PolishTests: XCTestCase {
    /// CLDR `pl` cardinal rule, written out independently of the implementation:
    /// one: i = 1 and v = 0; few: v = 0 and i % 10 = 2..4 and i % 100 != 12..14; many: the rest (for integers).
    func cldr(_ n: Int) -> PolishPlural {
        let lastDigit = n % 10
        let lastTwo = n % 100
        if n == 1 { return .one }
        if lastDigit >= 2 && lastDigit <= 4 && !(lastTwo >= 12 && lastTwo <= 14) { return .few }
        return .many
    }

    func testPluralCategoryMatchesCLDRFrom0To200() {
        for n in 0...200 {
            XCTAssertEqual(PolishPlural.category(n), cldr(n), "n = \(n)")
        }
    }

    func testHandCheckedForms() {
        XCTAssertEqual(PolishNoun.dni.counted(0), "0 dni")
        XCTAssertEqual(PolishNoun.dni.counted(1), "1 dzień")
        XCTAssertEqual(PolishNoun.dni.counted(2), "2 dni")
        XCTAssertEqual(PolishNoun.dni.counted(5), "5 dni")
        XCTAssertEqual(PolishNoun.dni.counted(12), "12 dni")
        XCTAssertEqual(PolishNoun.dni.counted(22), "22 dni")
        let laureat = { (n: Int) in PolishPlural.counted(n, one: "laureat", few: "laureaci", many: "laureatów") }
        XCTAssertEqual(laureat(1), "1 laureat")
        XCTAssertEqual(laureat(3), "3 laureaci")
        XCTAssertEqual(laureat(5), "5 laureatów")
        XCTAssertEqual(laureat(12), "12 laureatów")
        XCTAssertEqual(laureat(13), "13 laureatów")
        XCTAssertEqual(laureat(22), "22 laureaci")
        XCTAssertEqual(laureat(104), "104 laureaci")
        XCTAssertEqual(laureat(112), "112 laureatów")
        XCTAssertEqual(laureat(0), "0 laureatów")
        XCTAssertEqual(PolishNoun.laureaci.counted(24), "24 laureaci")
        XCTAssertEqual(PolishNoun.nagrody.counted(5), "5 nagród")
        XCTAssertEqual(PolishNoun.wyroznienia.counted(2), "2 wyróżnienia")
    }

    func testDaysLeft() {
        XCTAssertEqual(PolishDaysLeft.text(0), "dziś")
        XCTAssertEqual(PolishDaysLeft.text(1), "jutro")
        XCTAssertEqual(PolishDaysLeft.text(2), "za 2 dni")
        XCTAssertEqual(PolishDaysLeft.text(7), "za 7 dni")
        XCTAssertEqual(PolishDaysLeft.text(14), "za 14 dni")
        XCTAssertEqual(PolishDaysLeft.text(22), "za 22 dni")
    }

    func testDates() {
        let day = LocalDate(year: 2026, month: 11, day: 21)
        XCTAssertEqual(PolishDate.date(day), "21 listopada 2026 r.")
        XCTAssertEqual(PolishDate.dateWithWeekdayAndTime(day, hour: 8, minute: 0), "sobota, 21 listopada 2026 r., 8:00")
        XCTAssertEqual(PolishDate.dateWithWeekdayAndTime(Fixtures.date("2026-11-21T07:00:00Z"), in: Fixtures.warsaw),
                       "sobota, 21 listopada 2026 r., 8:00")
        XCTAssertEqual(PolishDate.dateWithWeekdayAndTime(Fixtures.date("2026-07-01T12:05:00Z"), in: Fixtures.warsaw),
                       "środa, 1 lipca 2026 r., 14:05")
        XCTAssertEqual(PolishDate.date(Fixtures.date("2026-12-31T23:30:00Z"), in: Fixtures.warsaw), "1 stycznia 2027 r.")
        XCTAssertEqual(PolishDate.date(LocalDate(year: 2026, month: 12, day: 15)), "15 grudnia 2026 r.")
        XCTAssertEqual(PolishDate.weekday(LocalDate(year: 2026, month: 12, day: 15)), "wtorek")
        XCTAssertEqual(PolishDate.weekday(LocalDate(year: 2028, month: 2, day: 29)), "wtorek")
        XCTAssertEqual(PolishDate.weekday(LocalDate(year: 2026, month: 11, day: 23)), "poniedziałek")
        XCTAssertEqual(PolishDate.weekday(LocalDate(year: 2026, month: 11, day: 22)), "niedziela")
        let months = (1...12).map { PolishDate.date(LocalDate(year: 2026, month: $0, day: 1)) }
        XCTAssertEqual(months, ["1 stycznia 2026 r.", "1 lutego 2026 r.", "1 marca 2026 r.", "1 kwietnia 2026 r.",
                                "1 maja 2026 r.", "1 czerwca 2026 r.", "1 lipca 2026 r.", "1 sierpnia 2026 r.",
                                "1 września 2026 r.", "1 października 2026 r.", "1 listopada 2026 r.", "1 grudnia 2026 r."])
    }

    func testLists() {
        XCTAssertEqual(PolishList.join([]), "")
        XCTAssertEqual(PolishList.join(["ROPS"]), "ROPS")
        XCTAssertEqual(PolishList.join(["ROPS", "KWP"]), "ROPS i KWP")
        XCTAssertEqual(PolishList.join(["ROPS", "KWP", "MOPS"]), "ROPS, KWP i MOPS")
    }
}
