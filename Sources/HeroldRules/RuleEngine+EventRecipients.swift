import HeroldConfig
import HeroldCore

extension RuleEngine {
    /// How many unusable entries a held reason lists by position before it says "and N more".
    static let listedProblems = 5

    /// Recipients an event names in `data.FIELD` (a rule opts in with `to: [data.FIELD]`): a
    /// list of `"Name <addr>"` texts or of maps `{address, name, institution, salutation, ...}`.
    ///
    /// - More entries than `max_recipients`: one unusable recipient named `data.FIELD`, so the
    ///   action sends nothing for this event and `herold status` says why.
    /// - An address outside `allowed_domains`: unusable under its own address.
    /// - Entries that are no address at all (no `address`, `null`, a number, a bad text): one
    ///   unusable recipient named `data.FIELD` whose reason lists them by position, so one
    ///   held delivery reports them all and no two share a delivery id.
    func eventRecipients(_ path: String, in event: CloudEvent?, limits: EventRecipientLimits) -> [Recipient] {
        guard let event else { return [] }
        let items: [JSONValue]
        switch event.value(at: path) {
        case .array(let list)?: items = list
        case .string(let text)?: items = [.string(text)]
        case .object(let fields)?: items = [.object(fields)]
        case nil, .null?:
            return [.unusable(path, reason: "the rule sends to \(path), but the event has no \(path)")]
        default:
            return [.unusable(path, reason: "\(path) must be a list of addresses or of {address, name, ...} maps")]
        }
        guard items.count <= limits.maxRecipients else {
            return [.unusable(path, reason: "the event names \(items.count) recipients in \(path); max_recipients is \(limits.maxRecipients), so none of them is sent")]
        }
        var out: [Recipient] = []
        var problems: [String] = []
        for (position, item) in items.enumerated() {
            let place = "\(path)[\(position)]"
            switch Self.eventRecipient(item, at: place) {
            case .failure(let hold):
                problems.append(hold.reason)
            case .success(let (text, details)):
                let recipient = Self.recipient(text, details: details)
                switch recipient {
                case .unusable(_, let reason):
                    problems.append("\(place): \(reason)")
                case .address(let address, let mailbox, _) where !limits.allows(domain: mailbox.domain):
                    let domains = (limits.allowedDomains ?? []).joined(separator: ", ")
                    out.append(.unusable(address, reason: "recipient \(address) (\(place)) is outside allowed_domains (\(domains)); not sent"))
                default:
                    out.append(recipient)
                }
            }
        }
        if !problems.isEmpty { out.append(.unusable(path, reason: Self.unusableEntries(problems, in: path))) }
        return out
    }

    /// "2 entries of data.recipients cannot be used: data.recipients[0] has no …; data.recipients[1] is …"
    static func unusableEntries(_ problems: [String], in path: String) -> String {
        guard problems.count > 1 else { return problems.first ?? "" }
        var listed = problems.prefix(listedProblems).joined(separator: "; ")
        if problems.count > listedProblems { listed += "; and \(problems.count - listedProblems) more" }
        return "\(problems.count) entries of \(path) cannot be used: \(listed)"
    }

    /// One entry: the address as text for `Mailbox.parse` (with the name when it can be quoted
    /// simply) and the map's data, or why it cannot be used (`place` is e.g. `data.recipients[1]`).
    static func eventRecipient(_ item: JSONValue, at place: String) -> Result<(String, RecipientDetails?), DeliveryHold> {
        switch item {
        case .string(let text):
            return .success((text, nil))
        case .object(let fields):
            guard let address = fields["address"]?.stringValue, !address.contains("<") else {
                return .failure(DeliveryHold(reason: "\(place) has no \"address\" (a bare name@domain)"))
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
        case .null:
            return .failure(DeliveryHold(reason: "\(place) is null, neither an address nor a map"))
        default:
            return .failure(DeliveryHold(reason: "\(place) is neither an address nor a map"))
        }
    }
}
