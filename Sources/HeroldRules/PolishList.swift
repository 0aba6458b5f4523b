/// Polish enumerations: "A", "A i B", "A, B i C".
public enum PolishList {
    /// Joins with commas and "i" before the last item (no comma before "i", as Polish writes it).
    public static func join(_ items: [String]) -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " i " + items[items.count - 1]
        }
    }
}
