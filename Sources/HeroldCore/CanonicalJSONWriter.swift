import Foundation

/// Writes a `JSONValue` as the same bytes as Foundation's `JSONEncoder` with `.sortedKeys`
/// (keys in the order of their UTF-8 bytes; `.withoutEscapingSlashes` when asked), in one
/// pass over the value instead of through `Encodable`. Pure.
///
/// Strings are escaped as JSONEncoder does: `"` and `\`, `\b \f \n \r \t`, other control
/// characters as `\u00xx` (lower-case hex), `/` as `\/` unless told not to; nothing else.
/// Numbers other than integers are written by JSONEncoder itself (its format of a double
/// is its own); nil when one cannot be written, or when nesting is deeper than JSONEncoder
/// accepts, so the caller falls back to JSONEncoder for its exact result.
enum CanonicalJSONWriter {
    /// JSONEncoder refuses nesting from 512 levels on; beyond this, the caller decides.
    static let maxDepth = 500

    static func data(_ value: JSONValue, escapingSlashes: Bool) -> Data? {
        var writer = Writer(escapingSlashes: escapingSlashes)
        writer.bytes.reserveCapacity(512)
        guard writer.write(value, depth: 0) else { return nil }
        return Data(writer.bytes)
    }

    private struct Writer {
        let escapingSlashes: Bool
        var bytes: [UInt8] = []

        mutating func write(_ value: JSONValue, depth: Int) -> Bool {
            switch value {
            case .null: append("null")
            case .bool(let flag): append(flag ? "true" : "false")
            case .int(let number): bytes.append(contentsOf: String(number).utf8)
            case .double(let number):
                guard let text = try? JSONEncoder().encode(number) else { return false }
                bytes.append(contentsOf: text)
            case .string(let text): write(text)
            case .array(let items):
                guard depth < maxDepth else { return false }
                bytes.append(0x5B)
                for (offset, item) in items.enumerated() {
                    if offset > 0 { bytes.append(0x2C) }
                    guard write(item, depth: depth + 1) else { return false }
                }
                bytes.append(0x5D)
            case .object(let members):
                guard depth < maxDepth else { return false }
                bytes.append(0x7B)
                let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                for (offset, member) in sorted.enumerated() {
                    if offset > 0 { bytes.append(0x2C) }
                    write(member.key)
                    bytes.append(0x3A)
                    guard write(member.value, depth: depth + 1) else { return false }
                }
                bytes.append(0x7D)
            }
            return true
        }

        private mutating func append(_ text: StaticString) {
            bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        private mutating func write(_ text: String) {
            bytes.append(0x22)
            var text = text
            text.withUTF8 { utf8 in
                var mark = 0
                for (offset, byte) in utf8.enumerated() {
                    guard let escape = escape(byte) else { continue }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark..<offset]))
                    bytes.append(contentsOf: escape)
                    mark = offset + 1
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark...]))
            }
            bytes.append(0x22)
        }

        private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

        /// What stands for `byte` in a string, or nil when it stands for itself.
        private func escape(_ byte: UInt8) -> [UInt8]? {
            switch byte {
            case 0x22: return [0x5C, 0x22]
            case 0x5C: return [0x5C, 0x5C]
            case 0x2F: return escapingSlashes ? [0x5C, 0x2F] : nil
            case 0x08: return [0x5C, 0x62]
            case 0x0C: return [0x5C, 0x66]
            case 0x0A: return [0x5C, 0x6E]
            case 0x0D: return [0x5C, 0x72]
            case 0x09: return [0x5C, 0x74]
            case 0x00..<0x20: return [0x5C, 0x75, 0x30, 0x30, Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0xF)]]
            default: return nil
            }
        }
    }
}
