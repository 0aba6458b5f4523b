import Foundation

/// The name herold gives itself in SMTP `EHLO` (RFC 5321 4.1.1.1): a fully qualified domain
/// name, or an address literal such as `[192.0.2.1]` or `[IPv6:2001:db8::1]`.
public enum EHLOName {
    /// Why `name` cannot be sent as the EHLO name, or nil when it can.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            return "contains a space or a control character (CR, LF, tab)"
        }
        if name.hasPrefix("[") { return addressLiteralProblem(name) }
        guard name.unicodeScalars.allSatisfy(\.isASCII) else {
            return "is not ASCII (write the xn-- form of an international name)"
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
            return "is a bare IP address (write it as an address literal, e.g. [\(name)])"
        }
        guard labels.count >= 2 else { return "is not a fully qualified domain name (it has no dot)" }
        guard name.utf8.count <= 253 else { return "is longer than 253 characters" }
        for label in labels {
            if label.isEmpty { return "has an empty label (two dots in a row, or a dot at an end)" }
            if label.utf8.count > 63 { return "has a label longer than 63 characters" }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "has a label starting or ending with \"-\"" }
            if !label.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0)
                || (0x61...0x7A).contains($0) || $0 == UInt8(ascii: "-") }) {
                return "may hold only letters, digits, \"-\" and dots"
            }
        }
        return nil
    }

    /// The EHLO name when the config sets none: this machine's name when it is fully qualified
    /// and not a placeholder (`localhost.localdomain`, `*.local`), since a relay with
    /// `reject_non_fqdn_helo_hostname` refuses `EHLO vm`; else the domain of the sender
    /// address; nil when neither is usable (libcurl then sends the machine's name).
    public static func fallback(hostName: String?, sender: Mailbox) -> String? {
        let placeholder = hostName.map { name in
            let lower = name.lowercased()
            return lower.hasPrefix("localhost") || lower.hasSuffix(".localdomain") || lower.hasSuffix(".local")
        } ?? true
        if let hostName, !placeholder, problem(hostName) == nil { return hostName }
        return problem(sender.domain) == nil ? sender.domain : nil
    }

    private static func addressLiteralProblem(_ name: String) -> String? {
        guard name.hasSuffix("]"), name.count > 2 else { return "is an address literal without its closing \"]\"" }
        let inner = name.dropFirst().dropLast()
        if inner.lowercased().hasPrefix("ipv6:") {
            let address = inner.dropFirst(5)
            let valid = address.contains(":") && address.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
            return valid ? nil : "is not an IPv6 address literal such as [IPv6:2001:db8::1]"
        }
        let parts = inner.split(separator: ".", omittingEmptySubsequences: false)
        let valid = parts.count == 4 && parts.allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                && Int(part).map { $0 <= 255 } == true
        }
        return valid ? nil : "is not an address literal such as [192.0.2.1] or [IPv6:2001:db8::1]"
    }
}

/// Host names that never leave the machine, where plain-text SMTP cannot be overheard.
public enum LoopbackHost {
    /// `localhost`, `127.0.0.0/8` and `::1` (brackets allowed), compared case-insensitively.
    public static func contains(_ host: String) -> Bool {
        let bare = host.lowercased().trimmingCharacters(in: ["[", "]"])
        if bare == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127"
            && parts.allSatisfy { part in Int(part).map { (0...255).contains($0) } == true && part.allSatisfy(\.isNumber) }
    }
}
