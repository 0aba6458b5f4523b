import HeroldCore

/// A file name in a spool folder: the bytes the kernel has (`readdir`, inotify), and the
/// printable text herold uses for it in its API, its logs and `rejected/`.
///
/// The text is the name with `%`, control bytes (below 0x20, 0x7F) and every byte that is
/// not part of well-formed UTF-8 written as `%XX`; everything else is kept as it is. The
/// mapping is one-to-one, so the text always leads back to the same file: `zażółć.json`
/// stays `zażółć.json`, `za\xBF\xF3\xB3.json` (Windows-1250) becomes `za%BF%F3%B3.json`,
/// and a real `50%.json` becomes `50%25.json`.
public struct SpoolName: Sendable, Hashable, CustomStringConvertible {
    /// The name as the file system has it (no NUL).
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The name whose bytes are exactly `string`'s UTF-8 (no `%XX` decoding): for names
    /// herold makes itself.
    public init(utf8 string: String) {
        self.bytes = Array(string.utf8)
    }

    /// The name a text produced by `text` stands for. `%` not followed by two hex digits
    /// stays a `%` (a name given by hand, not by herold).
    public init(text: String) {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
               let high = Self.hexValue(utf8[index + 1]), let low = Self.hexValue(utf8[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        self.bytes = bytes
    }

    /// The printable, reversible text (see the type's comment).
    public var text: String {
        var text = ""
        var index = 0
        while index < bytes.count {
            let rest = bytes[index...]
            // The longest well-formed prefix is kept; the first byte that is not is escaped.
            let good = UTF8Validator.firstProblem(in: rest).map(\.offset) ?? rest.count
            for scalar in String(decoding: rest.prefix(good), as: UTF8.self).unicodeScalars {
                text += Self.needsEscape(scalar) ? Self.escaped(UInt8(scalar.value)) : String(scalar)
            }
            index += good
            if index < bytes.count {
                text += Self.escaped(bytes[index])
                index += 1
            }
        }
        return text
    }

    public var description: String { text }

    /// Why the name cannot be accepted (not UTF-8), or nil when it is fine.
    public var encodingProblem: String? {
        guard let problem = UTF8Validator.firstProblem(in: bytes) else { return nil }
        let hex = bytes.map { EncodingHint.hex($0).dropFirst(2) }.joined(separator: " ")
        return "the file name is "
            + EncodingHint.notUTF8(problem, advice: "name files in UTF-8", withLine: false)
            + "; its bytes: \(hex)"
    }

    /// One path component: not empty, no `/` or NUL, not `.` or `..`.
    var isPlain: Bool {
        !bytes.isEmpty && bytes != [0x2E] && bytes != [0x2E, 0x2E]
            && !bytes.contains(0x2F) && !bytes.contains(0)
    }

    /// A dotfile: a producer's partial write, or herold's own temporary file.
    var isHidden: Bool { bytes.first == 0x2E }

    /// Calls `body` with the name as a C string.
    func withCString<T>(_ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        let cString = bytes.map { CChar(bitPattern: $0) } + [0]
        return try body(cString)
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "%" || scalar.value < 0x20 || scalar.value == 0x7F
    }

    private static func escaped(_ byte: UInt8) -> String {
        "%" + EncodingHint.hex(byte).dropFirst(2)
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
