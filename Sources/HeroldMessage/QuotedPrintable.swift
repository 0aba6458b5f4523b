/// Quoted-printable body encoding (RFC 2045 §6.7) with CRLF line ends.
public enum QuotedPrintable {
    /// Encoded lines are at most this long, soft-break `=` included.
    public static let maxLineLength = 76

    /// Encodes UTF-8 text; any line ending in the input becomes a CRLF hard break.
    public static func encode(_ text: String) -> String {
        let lines = LineEndings.crlf(text).components(separatedBy: "\r\n")
        return lines.map(encodeLine).joined(separator: "\r\n")
    }

    /// One logical line (no CR or LF) into one or more physical lines joined by soft breaks.
    /// Tokens are ASCII, so lengths are counted in bytes as they are appended (linear time).
    private static func encodeLine(_ line: String) -> String {
        let scalars = Array(line.unicodeScalars)
        var output: [UInt8] = []
        output.reserveCapacity(line.utf8.count * 3 / 2 + 8)
        var currentLength = 0
        var token: [UInt8] = []
        for (index, scalar) in scalars.enumerated() {
            let isLast = index == scalars.count - 1
            // One token per scalar, so a soft break never falls inside a character's bytes.
            token.removeAll(keepingCapacity: true)
            switch scalar.value {
            case 0x20, 0x09:
                // Whitespace at the end of a line would be stripped in transit.
                if isLast { appendEscaped(UInt8(scalar.value), to: &token) } else { token.append(UInt8(scalar.value)) }
            case 33...60, 62...126:
                token.append(UInt8(scalar.value))
            default:
                for byte in String(scalar).utf8 { appendEscaped(byte, to: &token) }
            }
            let limit = isLast ? maxLineLength : maxLineLength - 1
            if currentLength + token.count > limit {
                output += Array("=\r\n".utf8)
                currentLength = 0
            }
            // A dot opening a physical line is escaped so no SMTP hop can mistake it for the end.
            if currentLength == 0 && token == [0x2E] { token = Array("=2E".utf8) }
            output += token
            currentLength += token.count
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static let hexBytes = Array("0123456789ABCDEF".utf8)

    private static func appendEscaped(_ byte: UInt8, to token: inout [UInt8]) {
        token.append(0x3D)
        token.append(hexBytes[Int(byte >> 4)])
        token.append(hexBytes[Int(byte & 0x0F)])
    }
}
