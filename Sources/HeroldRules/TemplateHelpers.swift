/// The Polish helpers templates can call, as swift-mustache transforms: `{{helper(value)}}`.
/// They work on any value, also inside loops (`{{#data.laureates}}{{pl_data(date)}}{{/data.laureates}}`),
/// and can be nested (`{{pl_laureaci(count(data.laureates))}}`). Dates are shown in the config's time zone.
///
/// On a date (`"2026-12-15"` or an RFC 3339 date-time such as `"2026-11-21T08:00:00+01:00"`):
/// - `{{pl_data(data.deadline)}}` → "15 grudnia 2026 r."
/// - `{{pl_data_dzien(data.deadline)}}` → "wtorek, 15 grudnia 2026 r."
/// - `{{pl_data_i_godzina(data.date)}}` → "sobota, 21 listopada 2026 r., 8:00" (a plain date: without the time)
/// - `{{pl_godzina(data.date)}}` → "8:00"
/// - `{{pl_dzien_tygodnia(data.date)}}` → "sobota"
///
/// On a whole number:
/// - `{{pl_dni(reminder.days_left)}}` → "7 dni" ("1 dzień", "2 dni", "5 dni")
/// - `{{pl_za_ile(reminder.days_left)}}` → "za 7 dni" (0 → "dziś", 1 → "jutro")
/// - `{{pl_laureaci(n)}}` → "1 laureat", "2 laureaci", "5 laureatów"; likewise `pl_nagrody`,
///   `pl_wyroznienia`, `pl_instytucje`, `pl_zgloszenia`, `pl_osoby`
///
/// On a list:
/// - `{{pl_lista(data.organizers)}}` → "ROPS w Krakowie, KWP w Krakowie i MOPS w Krakowie"
///   (a list of objects is listed by their `name`)
/// - `{{count(data.laureates)}}` → "4", so `{{pl_laureaci(count(data.laureates))}}` → "4 laureatów"
///
/// Ready-made values in a reminder: `{{reminder.days_left}}` → "7", `{{reminder.dni}}` → "7 dni",
/// `{{reminder.za_ile}}` → "za 7 dni", `{{reminder.termin}}` → the reminded field as written.
///
/// swift-mustache's own transforms also work: `first`, `last`, `empty`, `reversed`, `lowercased`,
/// `uppercased`, `capitalized`, `plusone`, `minusone`, `even`, `odd`, `equalzero`, and in a loop
/// `first()`, `last()`, `index()` (`{{^last()}}, {{/last()}}`).
public enum TemplateHelpers {
    /// Helpers on dates.
    public static let dateHelpers: Set<String> = [
        "pl_data", "pl_data_dzien", "pl_data_i_godzina", "pl_godzina", "pl_dzien_tygodnia",
    ]
    /// Helpers on whole numbers.
    public static let numberHelpers: Set<String> =
        Set(["pl_za_ile"] + PolishNoun.allCases.map { "pl_" + $0.rawValue })
    /// Helpers on lists.
    public static let listHelpers: Set<String> = ["pl_lista"]
    /// swift-mustache's built-in transform names, kept working.
    public static let builtIn: Set<String> = [
        "first", "last", "index", "even", "odd", "count", "empty", "reversed", "sorted",
        "capitalized", "lowercased", "uppercased", "plusone", "minusone", "equalzero", "enumerated",
    ]
    /// Every name a template may use as `name(...)`.
    public static var all: Set<String> { dateHelpers.union(numberHelpers).union(listHelpers).union(builtIn) }
}
