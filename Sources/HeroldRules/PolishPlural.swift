/// Polish plural categories for integers, by the CLDR rule for `pl`.
public enum PolishPlural: Sendable, Equatable {
    /// n == 1: "1 dzień", "1 laureat".
    case one
    /// n % 10 in 2...4 and n % 100 not in 12...14: "2 dni", "22 laureaci".
    case few
    /// Everything else, including 0 and 12...14: "5 dni", "12 laureatów".
    case many

    /// The category of `n` (negative numbers use their absolute value).
    public static func category(_ n: Int) -> PolishPlural {
        let n = n.magnitude
        if n == 1 { return .one }
        if (2...4).contains(n % 10), !(12...14).contains(n % 100) { return .few }
        return .many
    }

    /// The word form for `n`: `form(5, one: "laureat", few: "laureaci", many: "laureatów")` is "laureatów".
    public static func form(_ n: Int, one: String, few: String, many: String) -> String {
        switch category(n) {
        case .one: return one
        case .few: return few
        case .many: return many
        }
    }

    /// The number followed by its word form: `counted(5, one: "dzień", few: "dni", many: "dni")` is "5 dni".
    public static func counted(_ n: Int, one: String, few: String, many: String) -> String {
        "\(n) \(form(n, one: one, few: few, many: many))"
    }
}

/// Nouns that templates can count with a `pl_NOUN` helper (`{{pl_dni(reminder.days_left)}}` → "7 dni").
public enum PolishNoun: String, Sendable, CaseIterable {
    case dni
    case laureaci
    case nagrody
    case wyroznienia
    case instytucje
    case zgloszenia
    case osoby

    /// Forms for one, few and many.
    public var forms: (one: String, few: String, many: String) {
        switch self {
        case .dni: return ("dzień", "dni", "dni")
        case .laureaci: return ("laureat", "laureaci", "laureatów")
        case .nagrody: return ("nagroda", "nagrody", "nagród")
        case .wyroznienia: return ("wyróżnienie", "wyróżnienia", "wyróżnień")
        case .instytucje: return ("instytucja", "instytucje", "instytucji")
        case .zgloszenia: return ("zgłoszenie", "zgłoszenia", "zgłoszeń")
        case .osoby: return ("osoba", "osoby", "osób")
        }
    }

    /// "7 dni", "1 laureat", "22 laureaci".
    public func counted(_ n: Int) -> String {
        let f = forms
        return PolishPlural.counted(n, one: f.one, few: f.few, many: f.many)
    }
}
