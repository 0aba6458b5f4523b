import Foundation
import HeroldCore

/// `Date:` header values: `Sat, 21 Nov 2026 08:00:00 +0100`, English names whatever the locale.
public enum RFC5322Date {
    private static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats `date` as seen in `timeZone`, with that zone's numeric offset. Plain
    /// arithmetic on the civil calendar: no ICU calendar is built per message.
    public static func format(_ date: Date, timeZone: TimeZone) -> String {
        let offsetSeconds = timeZone.secondsFromGMT(for: date)
        let local = Int(date.timeIntervalSince1970.rounded(.down)) + offsetSeconds
        let days = local >= 0 ? local / 86400 : (local - 86399) / 86400
        let seconds = local - days * 86400
        let (year, month, day) = RFC3339.civilFromDays(days)
        // 1970-01-01 was a Thursday.
        let weekday = dayNames[((days % 7) + 7 + 4) % 7]
        let offset = offsetSeconds / 60
        let sign = offset < 0 ? "-" : "+"
        return "\(weekday), \(day) \(months[month - 1]) \(year) "
            + "\(two(seconds / 3600)):\(two(seconds % 3600 / 60)):\(two(seconds % 60)) "
            + "\(sign)\(two(abs(offset) / 60))\(two(abs(offset) % 60))"
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
