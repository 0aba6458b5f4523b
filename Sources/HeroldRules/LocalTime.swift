import Foundation

/// Wall-clock time in a time zone, turned into instants with explicit DST rules.
///
/// Foundation's `Calendar.date(from:)` resolves a time inside a spring-forward gap
/// differently across platforms, so the rule is spelled out here:
/// - a local time that does not exist (02:30 on the last Sunday of March in Warsaw)
///   moves forward to the first valid time after the gap (03:00);
/// - a local time that exists twice (02:30 on the last Sunday of October) takes the
///   first occurrence (still summer time).
public enum LocalTime {
    /// Gregorian calendar in `timeZone`.
    public static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The instant at `minutes` after local midnight of `date` in `timeZone`.
    public static func instant(on date: LocalDate, atMinutes minutes: Int, in timeZone: TimeZone) -> Date {
        // Seconds since the epoch if the wall-clock time were UTC.
        let wall = date.dayNumber * 86_400 + minutes * 60
        func offset(_ t: Int) -> Int { timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t))) }
        // Any transition near this day is between the offsets in force a day before and a day after.
        let candidates = Set([offset(wall - 86_400), offset(wall + 86_400), offset(wall)])
        let valid = candidates.map { wall - $0 }.filter { offset($0) == wall - $0 }.sorted()
        if let first = valid.first {
            return Date(timeIntervalSince1970: TimeInterval(first))
        }
        // In a gap: the first instant whose offset differs from the one before the gap.
        let before = offset(wall - 86_400)
        var low = wall - (candidates.max() ?? before)   // earliest reading: still the old offset
        var high = wall - (candidates.min() ?? before)  // latest reading: already the new offset
        guard offset(low) == before, low < high else { return Date(timeIntervalSince1970: TimeInterval(wall - before)) }
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if offset(mid) == before { low = mid } else { high = mid }
        }
        return Date(timeIntervalSince1970: TimeInterval(high))
    }

    /// Local day, hour and minute of an instant in `timeZone`.
    public static func parts(of instant: Date, in timeZone: TimeZone) -> (date: LocalDate, hour: Int, minute: Int) {
        let c = calendar(timeZone).dateComponents([.year, .month, .day, .hour, .minute], from: instant)
        return (LocalDate(year: c.year ?? 1970, month: c.month ?? 1, day: c.day ?? 1), c.hour ?? 0, c.minute ?? 0)
    }
}
