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
        if text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw .controlCharacter
        }
        let trimmed = text.trimmingCharacters(in: " ")
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            var name = String(trimmed[..<open]).trimmingCharacters(in: " ")
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
                // Spaces inside the quotes are trimmed too, so the mailbox re-parses from its description.
                name = String(name.dropFirst().dropLast()).trimmingCharacters(in: " ")
            }
            if name.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) {
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
    /// a dot-atom local part and a domain of letters, digits, hyphens and dots. Checked on the
    /// UTF-8 bytes against tables built once (every message's envelope passes here).
    public static func validate(address: String) throws(ParseError) {
        let bytes = address.utf8
        guard bytes.count <= 254 else { throw .malformed("address is longer than 254 characters") }
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), at != bytes.startIndex,
              bytes.index(after: at) != bytes.endIndex, !bytes[bytes.index(after: at)...].contains(UInt8(ascii: "@"))
        else { throw .malformed("\"\(address)\" is not an address of the form name@domain") }
        let local = bytes[..<at], domain = bytes[bytes.index(after: at)...]
        guard local.allSatisfy({ ByteClass.dotAtom.contains($0) }), local.first != dot, local.last != dot,
              !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot })
        else { throw .malformed("\"\(address)\": the part before @ has characters not allowed in an address") }
        let labels = domain.split(separator: dot, omittingEmptySubsequences: false)
        guard labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.allSatisfy { ByteClass.ldh.contains($0) }
                                   && $0.first != hyphen && $0.last != hyphen })
        else { throw .malformed("\"\(address)\": the domain is not a valid host name") }
    }

    private static let dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        // Nothing to trim when neither end's byte is the (ASCII) character: no copy.
        if set.utf8.count == 1, let byte = set.utf8.first, utf8.first != byte, utf8.last != byte { return self }
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
