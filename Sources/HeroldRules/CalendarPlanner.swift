import Foundation
import HeroldConfig
import HeroldCore

/// One yearly occurrence of a calendar entry.
public struct CalendarOccurrence: Sendable, Equatable {
    /// The entry it comes from.
    public var entry: CalendarEntry
    /// The year it belongs to (the event's `data.year` and id), even if `shift` moved it across New Year.
    public var year: Int
    /// The local day it is sent on, after `shift`.
    public var day: LocalDate
    /// The instant it is sent.
    public var at: Date

    /// The CloudEvents id: `<entry name slug>-<year>`; with source `herold:calendar` it dedups in the journal.
    public var eventID: String { "\(CalendarPlanner.slug(entry.name))-\(year)" }
}

/// When calendar entries fall, and the events they emit. Pure: `now` is always given.
///
/// 29 February: in a year without it, the occurrence is on 28 February (a yearly greeting
/// is still sent every year).
public enum CalendarPlanner {
    /// The source of every event the calendar emits.
    public static let source = "herold:calendar"

    /// The occurrence of `entry` in `year`, at its local time in `timeZone`, shifted if asked.
    public static func occurrence(of entry: CalendarEntry, year: Int, timeZone: TimeZone) -> CalendarOccurrence {
        var day = entry.day
        if entry.month == 2, day == 29, !isLeap(year) { day = 28 }
        let shifted = WorkingDay.shift(LocalDate(year: year, month: entry.month, day: day), entry.shift)
        return CalendarOccurrence(entry: entry, year: year, day: shifted,
                                  at: LocalTime.instant(on: shifted, atMinutes: entry.atMinutes, in: timeZone))
    }

    /// The first occurrence of any entry strictly after `instant`; nil without entries.
    public static func next(after instant: Date, entries: [CalendarEntry], timeZone: TimeZone) -> CalendarOccurrence? {
        let year = LocalDate(instant, in: timeZone).year
        return entries.compactMap { entry in
            // A shift may move an occurrence across New Year, so look one year either side.
            (year - 1...year + 1).lazy.map { occurrence(of: entry, year: $0, timeZone: timeZone) }.first { $0.at > instant }
        }.min { $0.at < $1.at }
    }

    /// The latest occurrence of `entry` at or before `instant`.
    public static func latest(_ entry: CalendarEntry, atOrBefore instant: Date, timeZone: TimeZone) -> CalendarOccurrence {
        let year = LocalDate(instant, in: timeZone).year
        return (year - 2...year + 1).reversed().lazy.map { occurrence(of: entry, year: $0, timeZone: timeZone) }
            .first { $0.at <= instant } ?? occurrence(of: entry, year: year - 2, timeZone: timeZone)
    }

    /// Every occurrence with `from < at <= to`, earliest first.
    public static func occurrences(after from: Date, through to: Date, entries: [CalendarEntry],
                                   timeZone: TimeZone) -> [CalendarOccurrence] {
        let first = LocalDate(from, in: timeZone).year - 1
        let last = LocalDate(to, in: timeZone).year + 1
        guard first <= last else { return [] }
        return entries.flatMap { entry in
            (first...last).map { occurrence(of: entry, year: $0, timeZone: timeZone) }
        }.filter { $0.at > from && $0.at <= to }.sorted { $0.at < $1.at }
    }

    /// The event an occurrence emits: source `herold:calendar`, id `<slug>-<year>`, the entry's
    /// type, `time` the occurrence, `data` the entry's data plus `year`.
    public static func event(for occurrence: CalendarOccurrence) throws(EventError) -> CloudEvent {
        var data = occurrence.entry.data
        data["year"] = .int(Int64(occurrence.year))
        return try CloudEvent(attributes: [
            "specversion": .string("1.0"),
            "id": .string(occurrence.eventID),
            "source": .string(source),
            "type": .string(occurrence.entry.type),
            "time": .string(RFC3339.format(occurrence.at)),
            "datacontenttype": .string("application/json"),
            "data": .object(data),
        ])
    }

    /// Lower-case ASCII words joined by "-": "Dzień Pracownika Socjalnego" → "dzien-pracownika-socjalnego".
    public static func slug(_ name: String) -> String {
        let folded = name.replacingOccurrences(of: "ł", with: "l").replacingOccurrences(of: "Ł", with: "L")
            .folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "en_US_POSIX"))
            .lowercased()
        var out = ""
        for scalar in folded.unicodeScalars {
            if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else if !out.isEmpty, !out.hasSuffix("-") {
                out.append("-")
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "calendar" : out
    }

    static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }
}
