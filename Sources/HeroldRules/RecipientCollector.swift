/// One action's recipients in order, each under a name no other recipient of the action has:
/// the name goes into the delivery id, so two deliveries of one event never share an id.
/// An address counts once (its domain compared case-insensitively, the local part exactly),
/// and so does an unusable entry.
struct RecipientCollector {
    private(set) var recipients: [RuleEngine.Recipient] = []
    private var keys: Set<String> = []

    /// Adds `recipient` unless an earlier one has the same name (or the same address).
    mutating func add(_ recipient: RuleEngine.Recipient) {
        if keys.insert(Self.key(recipient.name)).inserted { recipients.append(recipient) }
    }

    /// `Anna@Example.ORG` → `Anna@example.org`; a name without `@` as it is.
    static func key(_ name: String) -> String {
        guard let at = name.lastIndex(of: "@") else { return name }
        return String(name[..<at]) + name[at...].lowercased()
    }
}
