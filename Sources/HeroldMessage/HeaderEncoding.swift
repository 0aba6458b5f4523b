import Foundation

/// RFC 2047 encoded words and RFC 5322 header folding.
public enum HeaderEncoding {
    /// Longest encoded word RFC 2047 allows.
    public static let maxEncodedWordLength = 75
    /// Preferred longest header line (RFC 5322 §2.1.1), CRLF excluded.
    public static let preferredLineLength = 78

    /// The two RFC 2047 encodings.
    public enum Encoding: Sendable {
        case q
        case b
    }

    /// True when `text` cannot appear in a header as it is: non-ASCII, or something a decoder
    /// would take for an encoded word.
    public static func needsEncoding(_ text: String) -> Bool {
        let bytes = text.utf8
        return bytes.contains { $0 > 0x7E }
            || zip(bytes, bytes.dropFirst()).contains { $0 == UInt8(ascii: "=") && $1 == UInt8(ascii: "?") }
    }

    /// A complete unstructured header field (`Subject`), folded, ending in CRLF.
    public static func unstructuredField(name: String, value: String) -> String {
        let prefix = name + ": "
        if !needsEncoding(value) {
            // Keep every space: a single space separates tokens, extra ones stay as empty tokens.
            let tokens = value.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            let folded = fold(prefix: prefix, tokens: tokens)
            if folded.split(separator: "\r\n").allSatisfy({ $0.utf8.count <= 998 }) { return folded }
        }
        let words = encodedWords(value, firstLineRoom: preferredLineLength - prefix.count)
        return fold(prefix: prefix, tokens: words)
    }

    /// Joins tokens with single spaces, breaking the line (CRLF + the space) before a token that
    /// would pass 78 characters. Never breaks before an empty token: no whitespace-only lines.
    public static func fold(prefix: String, tokens: [String]) -> String {
        var out = ""
        var line = prefix
        for (index, token) in tokens.enumerated() {
            if index == 0 {
                line += token
            } else if !token.isEmpty, line.count + 1 + token.count > preferredLineLength,
                      !line.allSatisfy({ $0 == " " }) {
                out += line + "\r\n"
                line = " " + token
            } else {
                line += " " + token
            }
        }
        return out + line + "\r\n"
    }

    /// `text` as encoded words (UTF-8, Q or B, whichever is shorter), each at most 75 characters
    /// and the first at most `firstLineRoom`; words split only between grapheme clusters (or,
    /// for a cluster too long for one word, between Unicode scalars).
    public static func encodedWords(_ text: String, firstLineRoom: Int = maxEncodedWordLength) -> [String] {
        let encoding = preferredEncoding(for: text)
        let overhead = "=?UTF-8?Q?".count + "?=".count
        var words: [String] = []
        // The bytes of the word being filled, and their Q-encoded length (B's follows from the count).
        var pending: [UInt8] = []
        var pendingQ = 0

        func room() -> Int {
            (words.isEmpty ? max(min(firstLineRoom, maxEncodedWordLength), overhead + 12) : maxEncodedWordLength) - overhead
        }
        func length(count: Int, q: Int) -> Int {
            encoding == .q ? q : (count + 2) / 3 * 4
        }
        func flush() {
            if !pending.isEmpty { words.append(word(pending, encoding)) }
            pending.removeAll(keepingCapacity: true)
            pendingQ = 0
        }
        func add<Piece: Collection<UInt8>>(_ piece: Piece) -> Bool {
            let pieceQ = qLength(piece)
            if length(count: pending.count + piece.count, q: pendingQ + pieceQ) <= room() {
                pending += piece
                pendingQ += pieceQ
                return true
            }
            if pending.isEmpty { return false }
            flush()
            if length(count: piece.count, q: pieceQ) <= room() {
                pending += piece
                pendingQ = pieceQ
                return true
            }
            return false
        }

        for character in text {
            if add(character.utf8) { continue }
            // A cluster longer than a whole word: fall back to scalar boundaries (a scalar is
            // at most 4 bytes, 12 encoded characters, so it always fits).
            for scalar in character.unicodeScalars {
                _ = add(scalar.utf8)
            }
        }
        flush()
        return words.isEmpty ? [word([], encoding)] : words
    }

    /// Q for mostly-ASCII text (Polish reads well in Q), B when Q would be longer.
    static func preferredEncoding(for text: String) -> Encoding {
        let bytes = Array(text.utf8)
        return encodedLength(bytes, .q) <= encodedLength(bytes, .b) ? .q : .b
    }

    /// Characters Q may leave as they are in any header context, phrases included (RFC 2047 §5(3)).
    private static func isQSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "!"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }

    static func encodedLength(_ bytes: [UInt8], _ encoding: Encoding) -> Int {
        switch encoding {
        case .b: return (bytes.count + 2) / 3 * 4
        case .q: return qLength(bytes)
        }
    }

    private static func qLength<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Int {
        bytes.reduce(0) { $0 + (isQSafe($1) || $1 == 0x20 ? 1 : 3) }
    }

    private static let hex = Array("0123456789ABCDEF".utf8)

    static func word(_ bytes: [UInt8], _ encoding: Encoding) -> String {
        switch encoding {
        case .b:
            return "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?="
        case .q:
            var text: [UInt8] = Array("=?UTF-8?Q?".utf8)
            text.reserveCapacity(text.count + qLength(bytes) + 2)
            for byte in bytes {
                if isQSafe(byte) {
                    text.append(byte)
                } else if byte == 0x20 {
                    text.append(UInt8(ascii: "_"))
                } else {
                    text.append(UInt8(ascii: "="))
                    text.append(hex[Int(byte >> 4)])
                    text.append(hex[Int(byte & 0x0F)])
                }
            }
            text.append(contentsOf: "?=".utf8)
            return String(decoding: text, as: UTF8.self)
        }
    }
}
