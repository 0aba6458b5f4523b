/// How far away a day is, as a Polish reminder says it.
public enum PolishDaysLeft {
    /// 0 → "dziś", 1 → "jutro", N ≥ 2 → "za N dni"; -1 → "wczoraj", -N → "N dni temu".
    public static func text(_ days: Int) -> String {
        switch days {
        case 0: return "dziś"
        case 1: return "jutro"
        case -1: return "wczoraj"
        case ..<0: return "\(days.magnitude) dni temu"  // magnitude: Int.min has no negation
        default: return "za \(days) dni"
        }
    }
}
