import Foundation
import HeroldMessage
import XCTest

final class RFC5322DateTests: XCTestCase {
    /// What a calendar says, for comparison: the arithmetic must agree with it everywhere.
    private func viaCalendar(_ date: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let offset = zone.secondsFromGMT(for: date) / 60
        return String(format: "%@, %d %@ %d %02d:%02d:%02d %@%02d%02d", days[c.weekday! - 1], c.day!, months[c.month! - 1],
                      c.year!, c.hour!, c.minute!, c.second!, offset < 0 ? "-" : "+", abs(offset) / 60, abs(offset) % 60)
    }

    func testSocialWorkerDayInWarsaw() throws {
        let date = Date(timeIntervalSince1970: 1_795_244_400)  // 2026-11-21 07:00 UTC
        XCTAssertEqual(RFC5322Date.format(date, timeZone: try XCTUnwrap(TimeZone(identifier: "Europe/Warsaw"))),
                       "Sat, 21 Nov 2026 08:00:00 +0100")
    }

    func testAgreesWithTheCalendarAcrossZonesAndDSTChanges() throws {
        var generator = SystemRandomNumberGenerator()
        let zones = ["Europe/Warsaw", "UTC", "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham"].compactMap(TimeZone.init(identifier:))
        for _ in 0..<2000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: -2_000_000_000...4_000_000_000, using: &generator)))
            for zone in zones {
                XCTAssertEqual(RFC5322Date.format(date, timeZone: zone), viaCalendar(date, zone), "\(date) in \(zone.identifier)")
            }
        }
    }
}
