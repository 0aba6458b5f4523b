import Foundation

/// Any JSON value, as found in an event's `data` or extension attributes.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value at a dotted path such as `data.deadline` or `laureates.0.name`.
    public subscript(path path: String) -> JSONValue? {
        var current: JSONValue? = self
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            switch current {
            case .object(let members): current = members[String(part)]
            case .array(let items):
                guard let index = Int(part), items.indices.contains(index) else { return nil }
                current = items[index]
            default: return nil
            }
        }
        return current
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Text as a template or a rule comparison sees it: strings as-is, numbers and
    /// booleans in JSON spelling, containers and null as nil.
    public var scalarText: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }

    /// A plain Swift value (String, Int64, Double, Bool, [Any], [String: Any], or nil) for template engines.
    public var anyValue: Any? {
        switch self {
        case .null: return nil
        case .bool(let b): return b
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array(let items): return items.map { $0.anyValue as Any }
        case .object(let members): return members.mapValues { $0.anyValue as Any }
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let i = try? container.decode(Int64.self) { self = .int(i) }
        else if let d = try? container.decode(Double.self) { self = .double(d) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else if let o = try? container.decode([String: JSONValue].self) { self = .object(o) }
        else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }

    /// Canonical JSON bytes: sorted keys, no escaped slashes. Stable for the same value.
    public func jsonData() -> Data {
        jsonData(escapingSlashes: false)
    }

    /// The bytes `JSONEncoder` with `.sortedKeys` writes (`/` as `\/` when `escapingSlashes`,
    /// as JSONEncoder does by default), written in one pass (see `CanonicalJSONWriter`).
    public func jsonData(escapingSlashes: Bool) -> Data {
        if let bytes = CanonicalJSONWriter.data(self, escapingSlashes: escapingSlashes) { return bytes }
        let encoder = JSONEncoder()
        encoder.outputFormatting = escapingSlashes ? [.sortedKeys] : [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail: every case maps to a JSON value,
        // except non-finite doubles, which the parser never produces.
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }
}
