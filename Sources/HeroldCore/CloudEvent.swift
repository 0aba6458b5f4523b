import Foundation

/// `(source, id)`: what identifies an event. The same pair twice is a duplicate.
public struct EventKey: Hashable, Sendable, CustomStringConvertible {
    public var source: String
    public var id: String
    public init(source: String, id: String) {
        self.source = source
        self.id = id
    }
    public var description: String { "\(source) \(id)" }
}

/// A validated CloudEvents 1.0 event (JSON format).
public struct CloudEvent: Sendable, Equatable {
    public var id: String
    public var source: String
    public var type: String
    public var specversion: String
    public var subject: String?
    /// The `time` attribute as written, and parsed.
    public var time: String?
    public var timeValue: Date?
    public var datacontenttype: String?
    public var data: JSONValue?
    /// Every attribute of the event as received (including `data`), for re-serialisation.
    public var attributes: [String: JSONValue]

    public var key: EventKey { EventKey(source: source, id: id) }

    /// Extension attributes: everything that is not a CloudEvents core attribute.
    public var extensions: [String: JSONValue] {
        attributes.filter { !CloudEvent.coreAttributes.contains($0.key) }
    }

    public static let coreAttributes: Set<String> = [
        "specversion", "id", "source", "type", "subject", "time",
        "datacontenttype", "dataschema", "data", "data_base64",
    ]

    /// The event in CloudEvents structured mode: canonical JSON bytes.
    public func structuredJSON() -> Data {
        JSONValue.object(attributes).jsonData()
    }

    /// Reads an attribute by path: `type`, `subject`, `data.contest`, `data.laureates.0.name`.
    public func value(at path: String) -> JSONValue? {
        JSONValue.object(attributes)[path: path]
    }

    /// Builds an event from attributes (herold's own, e.g. from the calendar). Validates.
    public init(attributes: [String: JSONValue]) throws(EventError) {
        self = try CloudEventParser.validate(object: attributes, location: "event")
    }

    init(id: String, source: String, type: String, specversion: String, subject: String?,
         time: String?, timeValue: Date?, datacontenttype: String?, data: JSONValue?,
         attributes: [String: JSONValue]) {
        self.id = id
        self.source = source
        self.type = type
        self.specversion = specversion
        self.subject = subject
        self.time = time
        self.timeValue = timeValue
        self.datacontenttype = datacontenttype
        self.data = data
        self.attributes = attributes
    }
}

/// Why an event file cannot be accepted: what was wrong and where.
public struct EventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the file: `event`, `event[2]`, `event[2].time`.
    public var location: String
    public var message: String
    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }
    public var description: String { "\(location): \(message)" }
}
