import Foundation

/// Independent decoders, so the fuzzers check the encoders against the RFCs, not against themselves.
/// A copy of Tests/HeroldMessageTests/MIMEDecoders.swift (a test target cannot be a dependency).
public enum MIMEDecoders {
    /// RFC 5322 unfolding: a CRLF followed by whitespace is removed (the whitespace stays).
    public static func unfold(_ header: String) -> String {
        header.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n\t", with: "\t")
    }

    /// All encoded words in a header value, as written.
    public static func encodedWords(in value: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: "=\\?[^?]+\\?[QqBb]\\?[^?]*\\?=")
        let range = NSRange(value.startIndex..., in: value)
        return regex.matches(in: value, range: range).map { String(value[Range($0.range, in: value)!]) }
    }

    /// Decodes one `=?UTF-8?Q|B?...?=` word to its bytes.
    public static func decodeWord(_ word: String) -> [UInt8]? {
        let parts = word.dropFirst(2).dropLast(2).split(separator: "?", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].uppercased() == "UTF-8" else { return nil }
        if parts[1].uppercased() == "B" {
            return Data(base64Encoded: String(parts[2])).map { Array($0) }
        }
        var bytes: [UInt8] = []
        var chars = Array(parts[2].utf8)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == UInt8(ascii: "_") {
                bytes.append(0x20)
            } else if c == UInt8(ascii: "=") {
                guard chars.count >= 2, let v = UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
                chars = chars.dropFirst(2)
            } else {
                bytes.append(c)
            }
        }
        return bytes
    }

    /// The unstructured header text: encoded words decoded, whitespace between adjacent words dropped.
    public static func decodeUnstructured(_ value: String) -> String? {
        let words = encodedWords(in: value)
        if words.isEmpty { return value }
        // Our encoder writes the whole value as encoded words separated by single spaces.
        guard words.joined(separator: " ") == value else { return nil }
        var bytes: [UInt8] = []
        for word in words {
            guard let decoded = decodeWord(word) else { return nil }
            bytes += decoded
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// RFC 2045 quoted-printable decoding (soft breaks removed, CRLF hard breaks kept).
    public static func decodeQuotedPrintable(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        let lines = text.components(separatedBy: "\r\n")
        for (index, line) in lines.enumerated() {
            var bytes = Array(line.utf8)[...]
            var soft = false
            while let c = bytes.first {
                bytes = bytes.dropFirst()
                if c == UInt8(ascii: "=") {
                    if bytes.isEmpty { soft = true; break }
                    guard bytes.count >= 2, let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                    out.append(v)
                    bytes = bytes.dropFirst(2)
                } else {
                    out.append(c)
                }
            }
            if !soft && index < lines.count - 1 { out += [0x0D, 0x0A] }
        }
        return out
    }
}
