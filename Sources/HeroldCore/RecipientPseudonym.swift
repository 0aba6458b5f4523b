import Crypto
import Foundation

/// How recipients' addresses appear in log lines (config key `log_recipients`).
public enum RecipientLogMode: String, Sendable, CaseIterable {
    /// As they are (the default).
    case full
    /// `j***@mops.example.org`: the first letter and the domain.
    case masked
    /// `h:…`, the keyed hash `RecipientPseudonym` gives (the same one the journal keeps
    /// after the content period), so a line can be matched to a journal record.
    case hashed
}

/// Keyed hashes and masks of email addresses. The key (32 random bytes in the state folder,
/// see `RecipientKey`) makes the hash useless to anyone without it: nobody can hash a list
/// of guessed addresses and compare. Pure: no I/O.
public struct RecipientPseudonym: Sendable {
    private let key: SymmetricKey

    public init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    /// `h:` and 26 base32 letters (130 bits of HMAC-SHA256) of the address, lower-cased and
    /// trimmed, so `Jan@X.pl` and `jan@x.pl` hash the same.
    public func hash(_ address: String) -> String {
        let normalized = address.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let mac = HMAC<SHA256>.authenticationCode(for: Data(normalized.utf8), using: key)
        return Self.prefix + String(Base32.encode(Array(mac)).prefix(26))
    }

    /// What every hash starts with; no address does.
    public static let prefix = "h:"

    /// `j***@mops.example.org`: the local part's first character, then `***`.
    public static func mask(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@"), at > address.startIndex else { return "***" }
        return String(address[address.startIndex]) + "***" + address[at...]
    }

    /// The address as `mode` shows it.
    public func show(_ address: String, as mode: RecipientLogMode) -> String {
        switch mode {
        case .full: return address
        case .masked: return Self.mask(address)
        case .hashed: return hash(address)
        }
    }
}

/// Finds email addresses in free text (server replies, error messages), so logs can hide
/// the ones a recipient's key does not name: `local@domain.tld`, by the characters
/// addresses use in practice.
public enum AddressText {
    /// `text` with every address-shaped run replaced by `transform(address)`.
    public static func replacingAddresses(in text: String, _ transform: (String) -> String) -> String {
        guard text.contains("@") else { return text }
        let chars = Array(text)
        var out = ""
        var index = 0
        while index < chars.count {
            guard let (start, end) = address(around: chars, from: index) else {
                out.append(contentsOf: chars[index...])
                break
            }
            out.append(contentsOf: chars[index..<start])
            out += transform(String(chars[start..<end]))
            index = end
        }
        return out
    }

    /// The next address at or after `from`: its start and end offsets.
    private static func address(around chars: [Character], from: Int) -> (Int, Int)? {
        var at = from
        while at < chars.count {
            if chars[at] == "@" {
                var start = at
                while start > from, isLocal(chars[start - 1]) { start -= 1 }
                var end = at + 1
                while end < chars.count, isDomain(chars[end]) { end += 1 }
                while end > at + 1, chars[end - 1] == "." || chars[end - 1] == "-" { end -= 1 }
                if start < at, chars[(at + 1)..<end].contains(".") { return (start, end) }
            }
            at += 1
        }
        return nil
    }

    private static func isLocal(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || "._%+-'".contains(c)
    }

    private static func isDomain(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c == "." || c == "-"
    }
}
