/// JSON string escaping for values placed between quotes in a `body.json.mustache`.
public enum JSONString {
    /// The inside of a JSON string literal (no surrounding quotes) that decodes to `text`.
    /// `<`, `>` and `&` are written as `\u003c` etc. so a body embedded in HTML cannot close a `<script>`.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "<", ">", "&", "\u{2028}", "\u{2029}", "\u{7F}":
                out += hex(scalar.value)
            default:
                if scalar.value < 0x20 { out += hex(scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
