import HeroldConfig
import HeroldCore

extension RuleEngine {
    /// Recipients an event names in `data.FIELD` (a rule opts in with `to: [data.FIELD]`): a
    /// list of `"Name <addr>"` texts or of maps `{address, name, institution, salutation, ...}`.
    /// Each entry gives the address as text for `Mailbox.parse`, or why it cannot be used.
    static func eventRecipients(_ path: String, in event: CloudEvent?) -> [Result<(String, RecipientDetails?), DeliveryHold>] {
        guard let event else { return [] }
        let items: [JSONValue]
        switch event.value(at: path) {
        case .array(let list)?: items = list
        case .string(let text)?: items = [.string(text)]
        case .object?: items = [event.value(at: path) ?? .null]
        case nil, .null?:
            return [.failure(DeliveryHold(reason: "the rule sends to \(path), but the event has no \(path)"))]
        default:
            return [.failure(DeliveryHold(reason: "\(path) must be a list of addresses or of {address, name, ...} maps"))]
        }
        return items.map { item in
            switch item {
            case .string(let text):
                return .success((text, nil))
            case .object(let fields):
                guard let address = fields["address"]?.stringValue, !address.contains("<") else {
                    return .failure(DeliveryHold(reason: "an entry of \(path) has no \"address\" (a bare name@domain)"))
                }
                var details = RecipientDetails()
                for (key, value) in fields where key != "address" {
                    guard let text = value.scalarText else { continue }
                    switch key {
                    case "name": details.name = text
                    case "institution": details.institution = text
                    case "salutation": details.salutation = text
                    default: details.extra[key] = text
                    }
                }
                if let name = details.name, !name.contains(where: { "\"\\<>".contains($0) }) {
                    return .success(("\"\(name)\" <\(address)>", details))
                }
                // A name that cannot be quoted simply: the address alone in To, the name still in the template.
                return .success((address, details))
            default:
                return .failure(DeliveryHold(reason: "an entry of \(path) is neither an address nor a map"))
            }
        }
    }
}
