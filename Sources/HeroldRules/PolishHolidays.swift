import Foundation

/// Polish statutory public holidays (ustawa o dniach wolnych od pracy), including the
/// Easter-dependent ones and 24 December (a holiday from 2025 on).
public enum PolishHolidays {
    /// Easter Sunday of a Gregorian year (anonymous Gregorian computus, Meeus/Jones/Butcher).
    public static func easter(_ year: Int) -> LocalDate {
        let a = year % 19, b = year / 100, c = year % 100
        let d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return LocalDate(year: year, month: month, day: day)
    }

    /// Every public holiday of `year` with its Polish name, in date order.
    public static func holidays(in year: Int) -> [(date: LocalDate, name: String)] {
        let easter = easter(year)
        func day(_ month: Int, _ day: Int) -> LocalDate { LocalDate(year: year, month: month, day: day) }
        var list: [(LocalDate, String)] = [
            (day(1, 1), "Nowy Rok"),
            (day(1, 6), "Święto Trzech Króli"),
            (easter, "Wielkanoc"),
            (easter.adding(days: 1), "Poniedziałek Wielkanocny"),
            (day(5, 1), "Święto Pracy"),
            (day(5, 3), "Święto Konstytucji 3 Maja"),
            (easter.adding(days: 49), "Zielone Świątki"),
            (easter.adding(days: 60), "Boże Ciało"),
            (day(8, 15), "Wniebowzięcie Najświętszej Maryi Panny"),
            (day(11, 1), "Wszystkich Świętych"),
            (day(11, 11), "Narodowe Święto Niepodległości"),
            (day(12, 25), "Boże Narodzenie (pierwszy dzień)"),
            (day(12, 26), "Boże Narodzenie (drugi dzień)"),
        ]
        if year >= 2025 { list.append((day(12, 24), "Wigilia Bożego Narodzenia")) }
        return list.sorted { $0.0 < $1.0 }.map { (date: $0.0, name: $0.1) }
    }

    /// Whether `date` is a public holiday in Poland.
    public static func isHoliday(_ date: LocalDate) -> Bool {
        holidays(in: date.year).contains { $0.date == date }
    }
}
