import HeroldCore

/// How to reach the SMTP server. The daemon maps `herold.yaml`'s `smtp:` section onto this.
public struct SMTPSettings: Sendable, Equatable, CustomStringConvertible {
    /// Transport security, as in the config's `tls:` key.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        /// Plain SMTP; `smtp://` only.
        case none
        /// STARTTLS, required (never "try"): `smtp://`.
        case starttls
        /// Implicit TLS from the first byte: `smtps://`.
        case tls
    }

    /// `smtp://host:port` or `smtps://host:port`; a path sets the EHLO name (`smtp://h:25/example.org`).
    public var url: String
    public var tls: TLSMode
    public var username: String?
    public var password: String?
    /// SASL mechanism to use; nil lets curl pick what the server offers.
    public var auth: SMTPAuthMechanism?
    /// OAuth 2 access token, for `.xoauth2`.
    public var bearer: String?
    /// File holding the OAuth 2 access token, read again for every message, so a helper that
    /// refreshes the (short-lived) token only has to rewrite the file. Wins over `bearer`.
    public var tokenFile: String?
    /// Limit for connecting (DNS, TCP, TLS handshake).
    public var connectTimeout: Duration
    /// Limit for one whole message transfer.
    public var totalTimeout: Duration
    /// A CA bundle to trust instead of the system's (a private relay's CA).
    public var caFile: String?
    /// SMTP sessions used at once; later messages wait and reuse them (default 1).
    public var maxConnections = 1
    /// The name sent in `EHLO` (a FQDN or an address literal); nil lets libcurl send the machine's name.
    public var ehloName: String?
    /// A session idle longer than this is closed, not reused, so herold never talks into a
    /// session the relay has already dropped (many relays drop idle sessions after 60 s,
    /// Postfix after 300 s). Whole seconds; default 50 s.
    public var idleTimeout: Duration = .seconds(50)

    public init(url: String, tls: TLSMode, username: String? = nil, password: String? = nil,
                connectTimeout: Duration = .seconds(10), totalTimeout: Duration = .seconds(60),
                caFile: String? = nil) {
        self.url = url
        self.tls = tls
        self.username = username
        self.password = password
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.caFile = caFile
    }

    /// Never shows the password.
    public var description: String {
        "SMTPSettings(url: \(url), tls: \(tls.rawValue), username: \(username ?? "-"), password: \(password == nil ? "-" : "<redacted>"), bearer: \(bearer == nil ? "-" : "<redacted>"))"
    }

    /// Checks the URL scheme fits the TLS mode and nothing holds a line break.
    public func validate() throws(TransportSettingsError) {
        let scheme = url.prefix(while: { $0 != ":" }).lowercased()
        guard url.lowercased().hasPrefix(scheme + "://"), scheme == "smtp" || scheme == "smtps" else {
            throw TransportSettingsError("smtp url \"\(url)\" must start with smtp:// or smtps://")
        }
        if !RelayTLS.fits(scheme: scheme, implicitTLS: tls == .tls) {
            throw TransportSettingsError(tls == .tls ? "smtp tls: tls needs an smtps:// url (or use tls: starttls with smtp://)"
                                                     : "smtp url \"\(url)\" is smtps:// (implicit TLS): set tls: tls")
        }
        if auth == .xoauth2, (bearer == nil && tokenFile == nil) || username == nil {
            throw TransportSettingsError("smtp auth xoauth2 needs a username and a token (token_file)")
        }
        if let ehloName, let problem = EHLOName.problem(ehloName) {
            throw TransportSettingsError("smtp EHLO name \"\(ehloName)\" \(problem)")
        }
        for (name, value) in [("url", url), ("username", username ?? ""), ("password", password ?? ""), ("token", bearer ?? "")]
        where value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw TransportSettingsError("smtp \(name) contains a control character (a stray newline in a secret file?)")
        }
    }
}

/// A SASL mechanism for SMTP AUTH.
public enum SMTPAuthMechanism: String, Sendable, Equatable, CaseIterable {
    case plain
    case login
    case xoauth2

    /// curl's `CURLOPT_LOGIN_OPTIONS` value.
    var loginOptions: String { "AUTH=" + rawValue.uppercased() }
}

/// Limits for webhook requests.
public struct HTTPSettings: Sendable, Equatable {
    public var connectTimeout: Duration
    public var totalTimeout: Duration
    /// Bytes of a response body kept for the failure message; the rest is discarded.
    public var responseBodyLimit: Int
    /// A CA bundle to trust instead of the system's.
    public var caFile: String?

    public init(connectTimeout: Duration = .seconds(10), totalTimeout: Duration = .seconds(30),
                responseBodyLimit: Int = 64 * 1024, caFile: String? = nil) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.responseBodyLimit = responseBodyLimit
        self.caFile = caFile
    }
}

/// A transport setting that cannot work; found before anything is sent.
public struct TransportSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
