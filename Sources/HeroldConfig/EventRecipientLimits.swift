/// Limits on the recipients an event names itself (`to: [data.FIELD]` on an `email:` action):
/// keys `max_recipients` and `allowed_domains`. Lists written in the config are not limited.
public struct EventRecipientLimits: Sendable, Equatable {
    /// `max_recipients` when the action does not say: a handful of invited people, not a mailing.
    public static let defaultMaxRecipients = 20
    /// Largest `max_recipients` the config accepts.
    public static let maxRecipientsCeiling = 10_000

    /// An event naming more entries than this in one `data.FIELD` gets none of them sent.
    public var maxRecipients: Int
    /// Lower-case ASCII domains; an address must be in one of them or a subdomain of one.
    /// nil: any domain.
    public var allowedDomains: [String]?

    public init(maxRecipients: Int = defaultMaxRecipients, allowedDomains: [String]? = nil) {
        self.maxRecipients = maxRecipients
        self.allowedDomains = allowedDomains?.map { $0.lowercased() }
    }

    /// Whether `domain` (of an address `Mailbox` accepted: ASCII letters, digits, `-`, `.`) is
    /// one of `allowedDomains` or under one, compared case-insensitively and label by label,
    /// so `example.org` allows `mops.example.org` but not `badexample.org` or `example.org.evil.com`.
    public func allows(domain: String) -> Bool {
        guard let allowedDomains else { return true }
        var host = domain.lowercased()
        while host.hasSuffix(".") { host.removeLast() }
        return allowedDomains.map { $0.lowercased() }.contains { host == $0 || host.hasSuffix("." + $0) }
    }

    /// Why `text` cannot be an `allowed_domains` entry, or nil.
    public static func domainProblem(_ text: String) -> String? {
        if text.contains("@") { return "is an address; write only the domain after @" }
        if text.hasPrefix("*") { return "has a wildcard; write the domain alone, its subdomains are included" }
        if !text.unicodeScalars.allSatisfy(\.isASCII) {
            return "is not ASCII; write an internationalised domain in its xn-- form, as addresses carry it (idn2 gives it)"
        }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        let ldh = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-".unicodeScalars)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && !$0.hasPrefix("-")
                && !$0.hasSuffix("-") && $0.unicodeScalars.allSatisfy { ldh.contains($0) } }) else {
            return "is not a domain name such as example.org"
        }
        return nil
    }
}
