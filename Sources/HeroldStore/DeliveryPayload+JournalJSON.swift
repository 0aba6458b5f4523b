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
