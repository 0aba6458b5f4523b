/// Which hosts a webhook may not reach unless its endpoint says `allow_private: true`:
/// loopback, private, link-local (cloud metadata), unspecified and other non-public addresses.
public enum AddressPolicy {
    /// Why `host` (a name or an IP literal, IPv6 with or without brackets) is refused, or nil.
    /// Names other than `localhost` pass here; the resolved address is checked at connect time.
    public static func refusal(forHost host: String) -> String? {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }
        if name == "localhost" || name.hasSuffix(".localhost") { return "localhost" }
        return refusal(forIP: name)
    }

    /// Why the IP literal `ip` is refused, or nil (also nil when `ip` is not an IP literal).
    public static func refusal(forIP ip: String) -> String? {
        if let v4 = parseIPv4(ip) { return refusal(v4: v4) }
        if let v6 = parseIPv6(ip) { return refusal(v6: v6) }
        return nil
    }

    static func refusal(v4 a: [UInt8]) -> String? {
        switch (a[0], a[1]) {
        case (0, _): return "an unspecified address"
        case (127, _): return "a loopback address"
        case (10, _), (172, 16...31), (192, 168): return "a private address"
        case (169, 254): return a[2] == 169 && a[3] == 254 ? "the cloud metadata address" : "a link-local address"
        case (100, 64...127): return "a shared (carrier-grade NAT) address"
        case (224...255, _): return "a multicast or reserved address"
        default: return nil
        }
    }

    static func refusal(v6 a: [UInt8]) -> String? {
        let prefixZero = a[0..<10].allSatisfy { $0 == 0 }
        if a.allSatisfy({ $0 == 0 }) { return "an unspecified address" }
        if a[0..<15].allSatisfy({ $0 == 0 }) && a[15] == 1 { return "a loopback address" }
        // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d)
        // reach the embedded IPv4 address: judge that one.
        if prefixZero && ((a[10] == 0xFF && a[11] == 0xFF) || (a[10] == 0 && a[11] == 0)) {
            return refusal(v4: Array(a[12..<16]))
        }
        if a[0] == 0x00, a[1] == 0x64, a[2] == 0xFF, a[3] == 0x9B, a[4..<12].allSatisfy({ $0 == 0 }) {
            return refusal(v4: Array(a[12..<16]))
        }
        if a[0] & 0xFE == 0xFC { return "a private (unique local) address" }
        if a[0] == 0xFE && a[1] & 0xC0 == 0x80 { return "a link-local address" }
        if a[0] == 0xFE && a[1] & 0xC0 == 0xC0 { return "a site-local address" }
        if a[0] == 0xFF { return "a multicast address" }
        return nil
    }

    /// IPv4 the way `inet_aton` (and so the resolver) reads it: 1 to 4 parts, each decimal,
    /// octal (leading 0) or hex (0x), the last part filling the remaining bytes: `127.1`,
    /// `0x7f000001` and `2130706433` are all 127.0.0.1.
    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            var digits = Substring(part)
            var radix: UInt64 = 10
            if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
                radix = 16
                digits = digits.dropFirst(2)
            } else if digits.count > 1 && digits.hasPrefix("0") {
                radix = 8
                digits = digits.dropFirst()
            }
            guard !digits.isEmpty || radix == 16 else { return nil }
            // Leading zeros change no value: inet_aton reads `0000000000000177` as 127.
            digits = digits.drop { $0 == "0" }
            guard digits.count <= 12 else { return nil }
            var value: UInt64 = 0
            for character in digits {
                guard let digit = character.hexDigitValue, UInt64(digit) < radix else { return nil }
                value = value * radix + UInt64(digit)
            }
            values.append(value)
        }
        let lastBytes = 5 - values.count
        guard values.dropLast().allSatisfy({ $0 <= 255 }), let last = values.last,
              last < (UInt64(1) << (8 * UInt64(lastBytes)))
        else { return nil }
        var bytes = values.dropLast().map { UInt8($0) }
        for shift in stride(from: 8 * (lastBytes - 1), through: 0, by: -8) {
            bytes.append(UInt8((last >> UInt64(shift)) & 0xFF))
        }
        return bytes
    }

    /// IPv6 text (RFC 4291 §2.2: `::` compression, trailing dotted IPv4, a `%zone` ignored).
    static func parseIPv6(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if let percent = text.firstIndex(of: "%") { text = text[..<percent] }
        guard text.contains(":") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }

        func groups(_ part: String) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains(".") {
                    guard piece.split(separator: ".", omittingEmptySubsequences: false).count == 4,
                          piece.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                          let v4 = parseIPv4(String(piece)) else { return nil }
                    bytes += v4
                    continue
                }
                guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return bytes
        }

        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}
