import Foundation

/// Polish dates written out as an office letter would: "21 listopada 2026 r.",
/// "sobota, 21 listopada 2026 r., 8:00". Month and weekday names are spelled here,
/// not taken from the system locale, which Linux images often lack.
public enum PolishDate {
    /// Month names in the genitive, as used after a day number.
    public static let monthsGenitive = [
        "stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca",
        "lipca", "sierpnia", "września", "października", "listopada", "grudnia",
    ]
    /// Weekday names, Monday first (ISO order).
    public static let weekdays = [
        "poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela",
    ]

    /// "21 listopada 2026 r."
    public static func date(_ d: LocalDate) -> String {
        "\(d.day) \(monthsGenitive[d.month - 1]) \(d.year) r."
    }

    /// "sobota"
    public static func weekday(_ d: LocalDate) -> String {
        weekdays[d.isoWeekday - 1]
    }

    /// "8:00", "14:05"
    public static func time(hour: Int, minute: Int) -> String {
        minute < 10 ? "\(hour):0\(minute)" : "\(hour):\(minute)"
    }

    /// "sobota, 21 listopada 2026 r."
    public static func dateWithWeekday(_ d: LocalDate) -> String {
        "\(weekday(d)), \(date(d))"
    }

    /// "sobota, 21 listopada 2026 r., 8:00"
    public static func dateWithWeekdayAndTime(_ d: LocalDate, hour: Int, minute: Int) -> String {
        "\(dateWithWeekday(d)), \(time(hour: hour, minute: minute))"
    }

    /// "21 listopada 2026 r." for the local day of `instant` in `timeZone`.
    public static func date(_ instant: Date, in timeZone: TimeZone) -> String {
        date(LocalTime.parts(of: instant, in: timeZone).date)
    }

    /// "sobota, 21 listopada 2026 r., 8:00" for `instant` in `timeZone`.
    public static func dateWithWeekdayAndTime(_ instant: Date, in timeZone: TimeZone) -> String {
        let p = LocalTime.parts(of: instant, in: timeZone)
        return dateWithWeekdayAndTime(p.date, hour: p.hour, minute: p.minute)
    }
}
