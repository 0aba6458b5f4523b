import Foundation
import HeroldConfig

/// One reminder send: when, and how many days before the reminded date.
public struct ReminderTime: Sendable, Equatable {
    /// N in `before: [Nd]`: days from the send day to the reminded day.
    public var daysLeft: Int
    /// The instant to send.
    public var sendAt: Date

    /// A reminder send.
    public init(daysLeft: Int, sendAt: Date) {
        self.daysLeft = daysLeft
        self.sendAt = sendAt
    }

    /// Every send for a deadline, earliest first: for each N in `beforeDays`, the local day
    /// N days before the deadline's local day, at `atMinutes` local time in `timeZone`
    /// (DST rules as in `LocalTime.instant`), the day moved off weekends and holidays by
    /// `shift`. Same instant twice counts once. Past sends included.
    public static func schedule(deadline: EventDate, beforeDays: [Int], atMinutes: Int,
                                timeZone: TimeZone, shift: WorkdayShift = .none) -> [ReminderTime] {
        let day = deadline.localDate(in: timeZone)
        var seen: Set<Date> = []
        var out: [ReminderTime] = []
        for n in beforeDays {
            // A shifted send tells the true number of days left ("za 8 dni", not "za 7 dni").
            let sendDay = WorkingDay.shift(day.adding(days: -n), shift)
            let at = LocalTime.instant(on: sendDay, atMinutes: atMinutes, in: timeZone)
            if seen.insert(at).inserted { out.append(ReminderTime(daysLeft: day.dayNumber - sendDay.dayNumber, sendAt: at)) }
        }
        return out.sorted { $0.sendAt < $1.sendAt }
    }
}
