/// Quoted-printable body encoding (RFC 2045 §6.7) with CRLF line ends.
public enum QuotedPrintable {
    /// Encoded lines are at most this long, soft-break `=` included.
    public static let maxLineLength = 76

    /// Encodes UTF-8 text; any line ending in the input (CRLF, bare LF, bare CR) becomes a
    /// CRLF hard break. Works on the UTF-8 bytes in one pass: no line splitting, no String per
    /// character (Polish text has many non-ASCII characters).
    public static func encode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2 + 16)
        var lineStart = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x0D || byte == 0x0A else {
                index += 1
                continue
            }
            encodeLine(bytes[lineStart..<index], into: &out)
            out.append(0x0D)
            out.append(0x0A)
            index += (byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A) ? 2 : 1
            lineStart = index
        }
        encodeLine(bytes[lineStart..<bytes.count], into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// One logical line (no CR or LF) into one or more physical lines joined by soft breaks.
    /// A character's bytes are one token, so a soft break never falls inside a character.
    private static func encodeLine(_ line: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var length = 0
        var start = line.startIndex
        while start < line.endIndex {
            let lead = line[start]
            let width = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            let end = min(start + width, line.endIndex)
            let isLast = end == line.endIndex
            // Whitespace at the end of a line would be stripped in transit; "=" and controls
            // and every byte of a non-ASCII character are escaped.
            let literal = width == 1 && ((33...60).contains(lead) || (62...126).contains(lead)
                || ((lead == 0x20 || lead == 0x09) && !isLast))
            let tokenLength = literal ? 1 : 3 * (end - start)
            let limit = isLast ? maxLineLength : maxLineLength - 1
            if length + tokenLength > limit {
                out.append(contentsOf: softBreak)
                length = 0
            }
            if literal, length == 0, lead == 0x2E {
                // A dot opening a physical line is escaped so no SMTP hop can mistake it for the end.
                appendEscaped(lead, to: &out)
                length = 3
            } else if literal {
                out.append(lead)
                length += 1
            } else {
                for byte in line[start..<end] { appendEscaped(byte, to: &out) }
                length += tokenLength
            }
            start = end
        }
    }

    private static let softBreak: [UInt8] = [0x3D, 0x0D, 0x0A]
    private static let hexBytes = Array("0123456789ABCDEF".utf8)

    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(0x3D)
        out.append(hexBytes[Int(byte >> 4)])
        out.append(hexBytes[Int(byte & 0x0F)])
    }
}
