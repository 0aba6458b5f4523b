/// Strict UTF-8 validation (Unicode 15, table 3-7 "well-formed UTF-8 byte sequences"):
/// no overlong forms, no surrogates (U+D800–U+DFFF), nothing above U+10FFFF, no truncated
/// sequence. Pure; says where the first ill-formed sequence starts, so a producer can
/// find it in an editor.
public enum UTF8Validator {
    /// The first ill-formed sequence in a byte string.
    public struct Problem: Sendable, Equatable {
        /// Byte offset (from 0) of the byte the ill-formed sequence starts with.
        public var offset: Int
        /// That byte.
        public var byte: UInt8
        /// Line number (from 1) of that byte: line feeds before it, plus one.
        public var line: Int
    }

    /// nil when `bytes` are well-formed UTF-8, else the first problem.
    public static func firstProblem<C: Collection<UInt8>>(in bytes: C) -> Problem? {
        var index = bytes.startIndex
        var offset = 0
        var line = 1
        while index != bytes.endIndex {
            let lead = bytes[index]
            if lead < 0x80 {
                if lead == 0x0A { line += 1 }
                index = bytes.index(after: index)
                offset += 1
                continue
            }
            guard let length = sequenceLength(from: index, in: bytes) else {
                return Problem(offset: offset, byte: lead, line: line)
            }
            index = bytes.index(index, offsetBy: length)
            offset += length
        }
        return nil
    }

    /// Length of the well-formed multi-byte sequence starting at `start`, or nil.
    private static func sequenceLength<C: Collection<UInt8>>(from start: C.Index, in bytes: C) -> Int? {
        let lead = bytes[start]
        // The allowed range of the second byte narrows what the lead byte alone allows:
        // that is what rules out overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4).
        let length: Int
        let second: ClosedRange<UInt8>
        switch lead {
        case 0xC2...0xDF: (length, second) = (2, 0x80...0xBF)
        case 0xE0: (length, second) = (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, second) = (3, 0x80...0xBF)
        case 0xED: (length, second) = (3, 0x80...0x9F)
        case 0xF0: (length, second) = (4, 0x90...0xBF)
        case 0xF1...0xF3: (length, second) = (4, 0x80...0xBF)
        case 0xF4: (length, second) = (4, 0x80...0x8F)
        default: return nil  // a continuation byte without a lead, C0, C1, F5–FF
        }
        var index = bytes.index(after: start)
        for position in 1..<length {
            guard index != bytes.endIndex else { return nil }
            let byte = bytes[index]
            guard position == 1 ? second.contains(byte) : (0x80...0xBF).contains(byte) else { return nil }
            index = bytes.index(after: index)
        }
        return length
    }
}
