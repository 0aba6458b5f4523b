import Foundation
import HeroldConfig

/// Working days in Poland: Monday to Friday, except public holidays.
public enum WorkingDay {
    /// Whether people work on `date` (not a Saturday, Sunday or public holiday).
    public static func isWorkingDay(_ date: LocalDate) -> Bool {
        date.isoWeekday <= 5 && !PolishHolidays.isHoliday(date)
    }

    /// `date` itself if it is a working day; otherwise the nearest working day before
    /// (`.previous`) or after (`.next`); `.none` never moves it.
    public static func shift(_ date: LocalDate, _ direction: WorkdayShift) -> LocalDate {
        let step: Int
        switch direction {
        case .none: return date
        case .previous: step = -1
        case .next: step = 1
        }
        var day = date
        // At most a long weekend plus holidays (e.g. 24–26 Dec + weekend): bounded anyway.
        for _ in 0..<14 where !isWorkingDay(day) { day = day.adding(days: step) }
        return day
    }
}
