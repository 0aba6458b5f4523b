import Foundation

/// Parses and validates CloudEvents 1.0 in the JSON format: one event, or a batch (array).
/// Pure: bytes in, events or a precise error out.
public enum CloudEventParser {
    /// Longest accepted `id`, `source`, `type` or `subject`, in characters.
    public static let maxAttributeLength = 1024

    /// Deepest nesting of arrays and objects an event file may have (a batch is one level,
    /// the event another, `data` a third…). Deeper input costs the decoder time that grows
    /// with depth and cannot be stored faithfully, so it is refused before decoding.
    public static let maxNesting = 64

    /// Refuses nesting deeper than `maxNesting`, in one pass over the bytes (strings skipped).
    static func checkNesting(_ body: Data) throws(EventError) {
        if let problem = body.withUnsafeBytes(nestingProblem(in:)) { throw problem }
    }

    private static func nestingProblem(in body: UnsafeRawBufferPointer) -> EventError? {
        var depth = 0, inString = false, escaped = false, offset = 0
        for byte in body {
            defer { offset += 1 }
            if inString {
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                continue
            }
            switch byte {
            case 0x22: inString = true
            case 0x5B, 0x7B:
                depth += 1
                if depth > maxNesting {
                    return EventError(location: "file", message: "nests arrays and objects deeper than \(maxNesting) levels (at byte offset \(offset)); flatten the event's data")
                }
            case 0x5D, 0x7D: depth -= 1
            default: break
            }
        }
        return nil
    }

    public static func parse(_ bytes: Data) throws(EventError) -> [CloudEvent] {
        try checkEncoding(bytes)
        var body = bytes
        // A UTF-8 byte order mark (Notepad writes one) says nothing but "UTF-8": skipped.
        if body.starts(with: utf8BOM) { body = body.dropFirst(3) }
        guard body.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else {
            throw EventError(location: "file", message: "is empty; expected a CloudEvents JSON object or array")
        }
        try checkNesting(body)
        // The usual file is read in one pass; JSONDecoder decides the rest (and words errors).
        let value: JSONValue
        if let read = JSONFastReader.read(body) {
            value = read
        } else {
            value = try decode(body)
        }
        switch value {
        case .object(let object):
            return [try validate(object: object, location: "event")]
        case .array(let items):
            guard !items.isEmpty else {
                throw EventError(location: "batch", message: "is an empty array; expected at least one event")
            }
            var events: [CloudEvent] = []
            var seen: Set<EventKey> = []
            for (index, item) in items.enumerated() {
                guard case .object(let object) = item else {
                    throw EventError(location: "event[\(index)]", message: "is not a JSON object")
                }
                let event = try validate(object: object, location: "event[\(index)]")
                // A batch that repeats a key would be half-delivered; take the first.
                if seen.insert(event.key).inserted { events.append(event) }
            }
            return events
        default:
            throw EventError(location: "file", message: "holds a JSON \(kind(value)); expected a CloudEvents object or an array of them")
        }
    }

    static let utf8BOM: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Foundation's reading of the file: the reference for what `JSONFastReader` leaves.
    static func decode(_ body: Data) throws(EventError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: body)
        } catch let error as DecodingError {
            throw EventError(location: "file", message: "is not valid JSON (\(describe(error, in: body)))")
        } catch {
            throw EventError(location: "file", message: "is not valid JSON (\(error))")
        }
    }

    /// Refuses anything but strict UTF-8 before JSON sees it (Foundation's decoder would
    /// take some Latin-1 silently), saying which byte, where, and what encoding it may be.
    static func checkEncoding(_ bytes: Data) throws(EventError) {
        for (bom, name) in [([UInt8]([0xFF, 0xFE]), "UTF-16 little-endian"), ([0xFE, 0xFF], "UTF-16 big-endian")]
        where bytes.starts(with: bom) {
            throw EventError(location: "file", message: """
                is not UTF-8: it starts with the byte order mark of \(name) \
                (\(bom.map(EncodingHint.hex).joined(separator: " "))); save the file as UTF-8
                """)
        }
        // Over the contiguous bytes: the validator specialised for Data is several times slower.
        if let problem = bytes.withUnsafeBytes({ UTF8Validator.firstProblem(in: $0) }) {
            throw EventError(location: "file",
                             message: "is " + EncodingHint.notUTF8(problem, advice: "save the file as UTF-8"))
        }
    }

    public static func validate(object: [String: JSONValue], location: String) throws(EventError) -> CloudEvent {
        // A null attribute is treated as absent (CloudEvents JSON format, 3.1).
        let attributes = object.filter { $0.value != .null }
        func string(_ name: String, required: Bool) throws(EventError) -> String? {
            guard let value = attributes[name] else {
                if required { throw EventError(location: location, message: "missing required attribute \"\(name)\"") }
                return nil
            }
            guard case .string(let s) = value else {
                throw EventError(location: "\(location).\(name)", message: "must be a string, found a JSON \(kind(value))")
            }
            return s
        }
        /// A required attribute's value (`string` and `checked` throw when it is missing; this
        /// only turns their optional into a value without a trap).
        func required(_ value: String?, _ name: String) throws(EventError) -> String {
            guard let value else { throw EventError(location: location, message: "missing required attribute \"\(name)\"") }
            return value
        }
        func checked(_ name: String, required: Bool) throws(EventError) -> String? {
            guard let s = try string(name, required: required) else { return nil }
            if s.isEmpty { throw EventError(location: "\(location).\(name)", message: "must not be empty") }
            // Never more characters than bytes: only a long one is counted.
            if s.utf8.count > maxAttributeLength, s.count > maxAttributeLength {
                throw EventError(location: "\(location).\(name)", message: "is \(s.count) characters long; at most \(maxAttributeLength) allowed")
            }
            if s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw EventError(location: "\(location).\(name)", message: "contains a control character (line break, tab or NUL)")
            }
            return s
        }
        let specversion = try required(string("specversion", required: true), "specversion")
        guard specversion == "1.0" else {
            throw EventError(location: "\(location).specversion", message: "is \"\(specversion)\"; herold accepts CloudEvents \"1.0\"")
        }
        let id = try required(checked("id", required: true), "id")
        let source = try required(checked("source", required: true), "source")
        let type = try required(checked("type", required: true), "type")
        let subject = try checked("subject", required: false)
        let datacontenttype = try string("datacontenttype", required: false)
        if let ct = datacontenttype, ct.isEmpty || ct.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            throw EventError(location: "\(location).datacontenttype", message: "must be a media type such as \"application/json\"")
        }
        if let schema = try string("dataschema", required: false), schema.isEmpty {
            throw EventError(location: "\(location).dataschema", message: "must be a non-empty URI")
        }
        let time = try string("time", required: false)
        var timeValue: Date?
        if let time {
            guard let parsed = RFC3339.parseDateTime(time) else {
                throw EventError(location: "\(location).time", message: "\"\(time)\" is not an RFC 3339 timestamp such as \"2026-11-21T08:00:00+01:00\"")
            }
            timeValue = parsed
        }
        if attributes["data"] != nil, attributes["data_base64"] != nil {
            throw EventError(location: location, message: "has both \"data\" and \"data_base64\"; use one")
        }
        if let b64 = attributes["data_base64"] {
            guard case .string(let s) = b64, Data(base64Encoded: s) != nil else {
                throw EventError(location: "\(location).data_base64", message: "must be a base64 string")
            }
        }
        for (name, value) in attributes where !CloudEvent.coreAttributes.contains(name) {
            guard isValidAttributeName(name) else {
                throw EventError(location: "\(location).\(name)", message: "is not a valid attribute name (lower-case letters a-z and digits only, at most 20)")
            }
            switch value {
            case .string, .int, .bool: break
            case .double(let d) where d.rounded() == d: break
            default:
                throw EventError(location: "\(location).\(name)", message: "extension attributes must be a string, integer or boolean, found a JSON \(kind(value))")
            }
        }
        return CloudEvent(id: id, source: source, type: type, specversion: specversion, subject: subject,
                          time: time, timeValue: timeValue, datacontenttype: datacontenttype,
                          data: attributes["data"], attributes: attributes)
    }

    static func isValidAttributeName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 20 && name.unicodeScalars.allSatisfy {
            ($0.value >= 0x61 && $0.value <= 0x7A) || ($0.value >= 0x30 && $0.value <= 0x39)
        }
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    static func describe(_ error: DecodingError, in body: Data) -> String {
        switch error {
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        default:
            return "\(error)"
        }
    }
}
