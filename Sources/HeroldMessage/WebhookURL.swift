/// An http(s) URL split the way the webhook sender needs it.
public struct WebhookURL: Sendable, Equatable, CustomStringConvertible {
    /// `http` or `https`, lower-case.
    public var scheme: String
    /// The host without IPv6 brackets.
    public var host: String
    public var port: Int?
    /// Path and query as sent in the request line; `/` when the URL has none.
    public var target: String
    /// The URL as given.
    public var description: String

    /// Parses `text`; refuses other schemes, user info, control characters and spaces.
    public static func parse(_ text: String) throws(MessageError) -> WebhookURL {
        guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F }) else {
            throw .invalidURL("must be ASCII without spaces or control characters")
        }
        guard let schemeEnd = text.range(of: "://") else { throw .invalidURL("\"\(text)\" has no scheme") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw .invalidURL("scheme \"\(scheme)\" is not http or https")
        }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...].prefix(while: { $0 != "#" }))
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        guard !authority.contains("@") else { throw .invalidURL("user info in the URL is not supported") }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL("unclosed [ in host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL("junk after ] in host") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .invalidURL("no host") }
        var port: Int?
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw .invalidURL("port \"\(portText)\" is not 1-65535")
            }
            port = value
        }
        return WebhookURL(scheme: scheme, host: String(host), port: port, target: target, description: text)
    }

    /// The `Host` header value.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        guard let port, port != (scheme == "https" ? 443 : 80) else { return name }
        return "\(name):\(port)"
    }

    /// Throws unless the host is public or `allowPrivate` is set.
    public func checkAllowed(allowPrivate: Bool) throws(MessageError) {
        if allowPrivate { return }
        if let reason = AddressPolicy.refusal(forHost: host) {
            throw .addressNotAllowed(host: host, reason: reason)
        }
    }
}
