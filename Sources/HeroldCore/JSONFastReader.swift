/// A one-pass JSON reader over UTF-8 bytes for the common shape of event files: strings,
/// integers, booleans, null, arrays and objects. Pure.
///
/// It gives the same `JSONValue` as Foundation's `JSONDecoder` would, or nil whenever it
/// is not sure it would: a fraction or an exponent, an integer out of `Int64`'s range, `-0`,
/// a leading zero, a `\u` escape of a surrogate, a control character in a string, a key
/// twice in one object, and anything that is not valid JSON. The caller then decodes with
/// `JSONDecoder`, whose value and error messages stay the reference.
public enum JSONFastReader {
    /// The value of `bytes` (one JSON text, whitespace around it allowed), or nil (see above).
    public static func read<C: Collection<UInt8>>(_ bytes: C) -> JSONValue? {
        let result = bytes.withContiguousStorageIfAvailable { buffer -> JSONValue? in
            var reader = Cursor(bytes: buffer)
            return reader.document()
        }
        if let result { return result }
        return Array(bytes).withUnsafeBufferPointer { buffer in
            var reader = Cursor(bytes: buffer)
            return reader.document()
        }
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func document() -> JSONValue? {
            skipSpace()
            guard let value = value() else { return nil }
            skipSpace()
            return index == bytes.count ? value : nil
        }

        private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        private mutating func value() -> JSONValue? {
            guard let byte = current else { return nil }
            switch byte {
            case 0x7B: return object()
            case 0x5B: return array()
            case 0x22: return string().map(JSONValue.string)
            case 0x74: return literal("true", .bool(true))
            case 0x66: return literal("false", .bool(false))
            case 0x6E: return literal("null", .null)
            case 0x2D, 0x30...0x39: return integer()
            default: return nil
            }
        }

        private mutating func literal(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { return nil }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return nil }
            index += count
            return value
        }

        private mutating func object() -> JSONValue? {
            index += 1
            var members: [String: JSONValue] = [:]
            skipSpace()
            if current == 0x7D {
                index += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard current == 0x22, let key = string() else { return nil }
                skipSpace()
                guard current == 0x3A else { return nil }
                index += 1
                skipSpace()
                guard let member = value() else { return nil }
                // A repeated key: which one JSONDecoder keeps is its business.
                guard members.updateValue(member, forKey: key) == nil else { return nil }
                skipSpace()
                switch current {
                case 0x2C: index += 1
                case 0x7D:
                    index += 1
                    return .object(members)
                default: return nil
                }
            }
        }

        private mutating func array() -> JSONValue? {
            index += 1
            var items: [JSONValue] = []
            skipSpace()
            if current == 0x5D {
                index += 1
                return .array(items)
            }
            while true {
                skipSpace()
                guard let item = value() else { return nil }
                items.append(item)
                skipSpace()
                switch current {
                case 0x2C: index += 1
                case 0x5D:
                    index += 1
                    return .array(items)
                default: return nil
                }
            }
        }

        /// `-?[1-9][0-9]*` or `0` within `Int64`; anything else is left to JSONDecoder.
        private mutating func integer() -> JSONValue? {
            let negative = current == 0x2D
            if negative { index += 1 }
            let start = index
            var magnitude: UInt64 = 0
            while let byte = current, (0x30...0x39).contains(byte) {
                let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - 0x30))
                guard !overflow1, !overflow2 else { return nil }
                magnitude = sum
                index += 1
            }
            let digits = index - start
            guard digits > 0, !(bytes[start] == 0x30 && (digits > 1 || negative)) else { return nil }
            if let next = current, next == 0x2E || next == 0x65 || next == 0x45 { return nil }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
                return .int(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude))
            }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return .int(Int64(magnitude))
        }

        /// A string at `"`; nil for what JSONDecoder would refuse or might read otherwise.
        private mutating func string() -> String? {
            index += 1
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x22 {
                    defer { index += 1 }
                    return String(validating: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                }
                if byte == 0x5C { return escapedString(from: start) }
                if byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        /// The rest of a string that has escapes, `index` at the first backslash.
        private mutating func escapedString(from start: Int) -> String? {
            var text: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case 0x22:
                    index += 1
                    return String(validating: text, as: UTF8.self)
                case 0x5C:
                    index += 1
                    guard let escape = current else { return nil }
                    index += 1
                    switch escape {
                    case 0x22, 0x5C, 0x2F: text.append(escape)
                    case 0x62: text.append(0x08)
                    case 0x66: text.append(0x0C)
                    case 0x6E: text.append(0x0A)
                    case 0x72: text.append(0x0D)
                    case 0x74: text.append(0x09)
                    case 0x75:
                        guard let code = hex4(), !(0xD800...0xDFFF).contains(code),
                              let scalar = Unicode.Scalar(code) else { return nil }
                        UTF8.encode(scalar) { text.append($0) }
                    default: return nil
                    }
                default:
                    guard byte >= 0x20 else { return nil }
                    text.append(byte)
                    index += 1
                }
            }
            return nil
        }

        private mutating func hex4() -> UInt32? {
            guard bytes.count - index >= 4 else { return nil }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case 0x30...0x39: digit = byte - 0x30
                case 0x41...0x46: digit = byte - 0x41 + 10
                case 0x61...0x66: digit = byte - 0x61 + 10
                default: return nil
                }
                code = code << 4 | UInt32(digit)
                index += 1
            }
            return code
        }
    }
}
