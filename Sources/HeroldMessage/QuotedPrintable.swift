/// Quoted-printable body encoding (RFC 2045 §6.7) with CRLF line ends.
public enum QuotedPrintable {
    /// Encoded lines are at most this long, soft-break `=` included.
    public static let maxLineLength = 76

    /// Encodes UTF-8 text; any line ending in the input becomes a CRLF hard break.
    public static func encode(_ text: String) -> String {
        let lines = LineEndings.crlf(text).components(separatedBy: "\r\n")
        return lines.map(encodeLine).joined(separator: "\r\n")
    }

    private static let hex = Array("0123456789ABCDEF")

    private static func escaped<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out = ""
        for byte in bytes {
            out.append("=")
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return out
    }

    /// One logical line (no CR or LF) into one or more physical lines joined by soft breaks.
    private static func encodeLine(_ line: String) -> String {
        let scalars = Array(line.unicodeScalars)
        var output = ""
        var current = ""
        for (index, scalar) in scalars.enumerated() {
            let isLast = index == scalars.count - 1
            // One token per scalar, so a soft break never falls inside a character's bytes.
            var token: String
            switch scalar.value {
            case 0x20, 0x09:
                // Whitespace at the end of a line would be stripped in transit.
                token = isLast ? escaped([UInt8(scalar.value)]) : String(scalar)
            case 33...60, 62...126:
                token = String(scalar)
            default:
                token = escaped(String(scalar).utf8)
            }
            let limit = isLast ? maxLineLength : maxLineLength - 1
            if current.count + token.count > limit {
                output += current + "=\r\n"
                current = ""
            }
            // A dot opening a physical line is escaped so no SMTP hop can mistake it for the end.
            if current.isEmpty && token == "." { token = "=2E" }
            current += token
        }
        return output + current
    }
}
