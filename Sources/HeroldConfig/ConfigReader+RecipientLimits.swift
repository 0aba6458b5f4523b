import Yams

extension ConfigReader {
    /// `max_recipients: 20` and `allowed_domains: [example.org]` of an `email:` action, which
    /// limit the recipients an event names (`to: [data.FIELD]`). nil when neither is written;
    /// `ok` becomes false after an issue.
    func readRecipientLimits(_ node: Node, at base: String, ok: inout Bool) -> EventRecipientLimits? {
        guard case .mapping(let outer) = node, let value = outer["email"], case .mapping(let email) = value else { return nil }
        let maxNode = email["max_recipients"], domainsNode = email["allowed_domains"]
        guard maxNode != nil || domainsNode != nil else { return nil }
        var limits = EventRecipientLimits()
        let path = "\(base).email"
        let namesEventField = email["to"].map { to -> Bool in
            if case .sequence(let items) = to { return items.contains { $0.string?.hasPrefix("data.") == true } }
            return to.string?.hasPrefix("data.") == true
        } ?? false
        if !namesEventField {
            issue(maxNode ?? domainsNode, "\(path): max_recipients and allowed_domains limit the recipients an event names, but \"to\" has no data.FIELD",
                  fix: "remove them, or add the event's field to \"to\", e.g. to: [data.recipients]")
            ok = false
        }
        if let maxNode {
            if let n = int(maxNode, at: "\(path).max_recipients", in: 1...EventRecipientLimits.maxRecipientsCeiling) {
                limits.maxRecipients = n
            } else {
                ok = false
            }
        }
        if let domainsNode {
            guard let items = stringList(domainsNode, at: "\(path).allowed_domains") else {
                ok = false
                return limits
            }
            var domains: [String] = []
            for (index, (text, itemNode)) in items.enumerated() {
                if let problem = EventRecipientLimits.domainProblem(text) {
                    issue(itemNode, "\(path).allowed_domains[\(index)]: \"\(text)\" \(problem)",
                          fix: "write a domain such as mops.krakow.pl (its subdomains are allowed too)")
                    ok = false
                } else {
                    domains.append(text.lowercased())
                }
            }
            limits.allowedDomains = domains
        }
        return limits
    }
}
