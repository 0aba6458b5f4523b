/// An email mailbox: `Name <local@domain>` or `local@domain`.
/// Refuses anything that could smuggle a header or an SMTP command (CR, LF, NUL, `<>` in the address).
public struct Mailbox: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var displayName: String?
    public var address: String

    public init(displayName: String? = nil, address: String) {
        self.displayName = displayName
        self.address = address
    }

    public var domain: String { String(address[address.index(after: address.lastIndex(of: "@")!)...]) }

    public var description: String {
        displayName.map { "\($0) <\(address)>" } ?? address
    }

    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case controlCharacter
        case malformed(String)
        public var description: String {
            switch self {
            case .controlCharacter: return "contains a line break, NUL or other control character"
            case .malformed(let why): return why
            }
        }
    }

    /// Parses `Name <a@b.pl>`, `"Name" <a@b.pl>` or `a@b.pl`.
    public static func parse(_ text: String) throws(ParseError) -> Mailbox {
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .controlCharacter
        }
        let trimmed = text.trimmingCharacters(in: " ")
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            var name = String(trimmed[..<open]).trimmingCharacters(in: " ")
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
                // Spaces inside the quotes are trimmed too, so the mailbox re-parses from its description.
                name = String(name.dropFirst().dropLast()).trimmingCharacters(in: " ")
            }
            if name.contains("\"") || name.contains("<") || name.contains(">") {
                throw .malformed("display name must not contain quotes or angle brackets")
            }
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            try validate(address: address)
            return Mailbox(displayName: name.isEmpty ? nil : name, address: address)
        }
        try validate(address: trimmed)
        return Mailbox(displayName: nil, address: trimmed)
    }

    /// An addr-spec we are willing to hand to an SMTP server: printable ASCII, one `@`,
    /// a dot-atom local part and a domain of letters, digits, hyphens and dots.
    public static func validate(address: String) throws(ParseError) {
        guard address.utf8.count <= 254 else { throw .malformed("address is longer than 254 characters") }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .malformed("\"\(address)\" is not an address of the form name@domain")
        }
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.".unicodeScalars)
        guard parts[0].unicodeScalars.allSatisfy({ atext.contains($0) }),
              !parts[0].hasPrefix("."), !parts[0].hasSuffix("."), !parts[0].contains("..")
        else { throw .malformed("\"\(address)\": the part before @ has characters not allowed in an address") }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        let ldh = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-".unicodeScalars)
        guard labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.unicodeScalars.allSatisfy { ldh.contains($0) }
                                   && !$0.hasPrefix("-") && !$0.hasSuffix("-") })
        else { throw .malformed("\"\(address)\": the domain is not a valid host name") }
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
