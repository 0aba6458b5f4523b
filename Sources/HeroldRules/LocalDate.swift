import Foundation
import HeroldCore

/// A calendar day with no time zone: what "2026-12-15" in an event means.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    /// 1...12
    public var month: Int
    /// 1...31
    public var day: Int

    /// A day; the caller makes sure it exists.
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`; nil if it is not a real date.
    public init?(_ text: String) {
        guard let d = RFC3339.parseDate(text) else { return nil }
        self.init(year: d.year, month: d.month, day: d.day)
    }

    /// The local day of an instant in a time zone.
    public init(_ instant: Date, in timeZone: TimeZone) {
        let c = LocalTime.calendar(timeZone).dateComponents([.year, .month, .day], from: instant)
        self.init(year: c.year ?? 1970, month: c.month ?? 1, day: c.day ?? 1)
    }

    /// Days since 1970-01-01: exact calendar arithmetic, no clock.
    public var dayNumber: Int { RFC3339.daysFromCivil(year: year, month: month, day: day) }

    /// The day with this day number (inverse of `dayNumber`).
    public init(dayNumber: Int) {
        let (y, m, d) = RFC3339.civilFromDays(dayNumber)
        self.init(year: y, month: m, day: d)
    }

    /// This day moved by `days` (negative: earlier).
    public func adding(days: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }

    /// ISO weekday: 1 = Monday ... 7 = Sunday. 1970-01-01 was a Thursday.
    public var isoWeekday: Int {
        let r = (dayNumber + 3) % 7
        return (r < 0 ? r + 7 : r) + 1
    }

    public static func < (a: LocalDate, b: LocalDate) -> Bool { a.dayNumber < b.dayNumber }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }
}

/// A date as events write it: a calendar day, or an RFC 3339 instant.
public enum EventDate: Sendable, Equatable {
    case date(LocalDate)
    case dateTime(Date)

    /// Parses "2026-12-15" or "2026-12-15T09:00:00+01:00"; nil for anything else.
    public init?(_ text: String) {
        if let d = LocalDate(text) {
            self = .date(d)
        } else if let t = RFC3339.parseDateTime(text) {
            self = .dateTime(t)
        } else {
            return nil
        }
    }

    /// The local day in `timeZone` (a plain date is already local).
    public func localDate(in timeZone: TimeZone) -> LocalDate {
        switch self {
        case .date(let d): return d
        case .dateTime(let t): return LocalDate(t, in: timeZone)
        }
    }
}
