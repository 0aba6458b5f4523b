import Foundation
import HeroldCore

/// The journal's `payload` column, written without `Encodable`: the `JSONValue` that
/// `JSONEncoder` makes of a payload's synthesized `Codable` (`{"email":{"_0":{…}}}`, absent
/// optionals left out, `Data` as base64), so `JSONValue.jsonData(escapingSlashes: true)` gives
/// the very bytes `JSONEncoder` with `.sortedKeys` gave. A field added to a payload type must
/// be added here too (`PayloadJSONTests` compares the two and fails otherwise).
extension DeliveryPayload {
    var journalValue: JSONValue {
        switch self {
        case .email(let email): return .object(["email": .object(["_0": email.journalValue])])
        case .webhook(let hook): return .object(["webhook": .object(["_0": hook.journalValue])])
        }
    }
}

extension EmailContent {
    var journalValue: JSONValue {
        var members: [String: JSONValue] = [
            "from": .string(from), "to": .string(to), "subject": .string(subject), "text": .string(text),
            "attachments": .array(attachments.map(\.journalValue)),
        ]
        members["html"] = html.map(JSONValue.string)
        members["replyTo"] = replyTo.map(JSONValue.string)
        members["sender"] = sender.map(JSONValue.string)
        members["listUnsubscribe"] = listUnsubscribe.map(JSONValue.string)
        return .object(members)
    }
}

extension AttachmentRef {
    var journalValue: JSONValue {
        var members: [String: JSONValue] = ["name": .string(name), "path": .string(path), "maxBytes": .int(Int64(maxBytes))]
        members["root"] = root.map(JSONValue.string)
        members["relative"] = relative.map(JSONValue.string)
        return .object(members)
    }
}

extension WebhookContent {
    var journalValue: JSONValue {
        .object(["endpoint": .string(endpoint), "contentType": .string(contentType), "body": .string(body.base64EncodedString())])
    }
}

// MARK: - Reading

extension DeliveryPayload {
    /// The payload of a journal row. The shape herold writes (above) is read in one pass over
    /// the bytes; anything else (a row written by an older herold, a damaged one) goes through
    /// `JSONDecoder`, which stays the reference for what a payload is and for its errors.
    init(journalJSON json: String) throws {
        var text = json
        let fast = text.withUTF8 { JSONFastReader.read($0) }.flatMap(DeliveryPayload.init(journalValue:))
        if let fast {
            self = fast
        } else {
            self = try JSONDecoder().decode(DeliveryPayload.self, from: Data(json.utf8))
        }
    }

    /// The payload `journalValue` describes, or nil when the value is not of that exact shape.
    init?(journalValue value: JSONValue) {
        guard case .object(let outer) = value, outer.count == 1, let (kind, wrapped) = outer.first,
              case .object(let box) = wrapped, box.count == 1, let content = box["_0"] else { return nil }
        switch kind {
        case "email": guard let email = EmailContent(journalValue: content) else { return nil }; self = .email(email)
        case "webhook": guard let hook = WebhookContent(journalValue: content) else { return nil }; self = .webhook(hook)
        default: return nil
        }
    }
}

/// Reads the members of a journal object, noting each one taken, so that an object with a
/// member the reader does not know is left to `JSONDecoder`.
private struct JournalMembers {
    let members: [String: JSONValue]
    var taken = 0

    init?(_ value: JSONValue) {
        guard case .object(let members) = value else { return nil }
        self.members = members
    }

    /// The string member `key`: nil when absent (`present` false) or not a string.
    mutating func string(_ key: String) -> (present: Bool, value: String?) {
        guard let member = members[key] else { return (false, nil) }
        taken += 1
        guard case .string(let text) = member else { return (true, nil) }
        return (true, text)
    }

    mutating func required(_ key: String) -> String? { string(key).value }

    /// An optional string member: `.some(nil)` when absent, nil when present but not a string.
    mutating func optional(_ key: String) -> String?? {
        let (present, value) = string(key)
        if !present { return .some(nil) }
        return value.map { .some($0) }
    }

    var allTaken: Bool { taken == members.count }
}

extension EmailContent {
    init?(journalValue value: JSONValue) {
        guard var m = JournalMembers(value),
              let from = m.required("from"), let to = m.required("to"), let subject = m.required("subject"),
              let text = m.required("text"), let html = m.optional("html"), let replyTo = m.optional("replyTo"),
              let sender = m.optional("sender"), let unsubscribe = m.optional("listUnsubscribe") else { return nil }
        var attachments: [AttachmentRef] = []
        if let list = m.members["attachments"] {
            m.taken += 1
            guard case .array(let items) = list else { return nil }
            for item in items {
                guard let attachment = AttachmentRef(journalValue: item) else { return nil }
                attachments.append(attachment)
            }
        }
        guard m.allTaken else { return nil }
        self.init(from: from, to: to, subject: subject, text: text, html: html, attachments: attachments,
                  replyTo: replyTo, sender: sender, listUnsubscribe: unsubscribe)
    }
}

extension AttachmentRef {
    init?(journalValue value: JSONValue) {
        guard var m = JournalMembers(value), let name = m.required("name"), let path = m.required("path"),
              case .int(let maxBytes)? = m.members["maxBytes"], let size = Int(exactly: maxBytes),
              let root = m.optional("root"), let relative = m.optional("relative") else { return nil }
        m.taken += 1
        guard m.allTaken else { return nil }
        self.init(name: name, path: path, maxBytes: size, root: root, relative: relative)
    }
}

extension WebhookContent {
    init?(journalValue value: JSONValue) {
        guard var m = JournalMembers(value), let endpoint = m.required("endpoint"),
              let contentType = m.required("contentType"), let base64 = m.required("body"),
              let body = Data(base64Encoded: base64), m.allTaken else { return nil }
        self.init(endpoint: endpoint, contentType: contentType, body: body)
    }
}
