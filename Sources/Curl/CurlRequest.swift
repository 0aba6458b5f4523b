/// How long a transfer may take; both are always set on every handle.
public struct CurlTimeouts: Sendable, Equatable {
    /// Limit for DNS + TCP connect (+ TLS handshake).
    public var connect: Duration
    /// Limit for the whole transfer; libcurl's default is "never", which we never use.
    public var total: Duration

    public init(connect: Duration = .seconds(10), total: Duration = .seconds(60)) {
        self.connect = connect
        self.total = total
    }
}

/// One header line, request or response.
public struct CurlHeader: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One message to one recipient over SMTP.
public struct SMTPTransfer: Sendable {
    /// Transport security for the SMTP session.
    public enum TLS: Sendable, Equatable {
        /// Plain text (only sensible on 127.0.0.1 or a trusted relay).
        case none
        /// STARTTLS required (CURLUSESSL_ALL): the transfer fails if the server does not offer it.
        case starttls
        /// TLS from the first byte; the URL must be `smtps://`.
        case implicit
    }

    /// `smtp://host:port[/ehlo-name]` or `smtps://...`.
    public var url: String
    /// Envelope sender (bare address).
    public var mailFrom: String
    /// The single envelope recipient (bare address).
    public var recipient: String
    /// The complete RFC 5322 message, CRLF line ends; curl dot-stuffs it.
    public var message: [UInt8]
    public var tls: TLS
    public var username: String?
    public var password: String?
    /// An OAuth 2 access token for SASL XOAUTH2 (with `username`).
    public var bearer: String?
    /// `AUTH=PLAIN`, `AUTH=LOGIN` or `AUTH=XOAUTH2` to pin the SASL mechanism; nil lets curl pick.
    public var loginOptions: String?
    public var timeouts: CurlTimeouts
    /// A CA bundle to verify the server against instead of the system one.
    public var caFile: String?
    /// The name sent in `EHLO`; nil lets libcurl send the machine's name. The `url` must then
    /// have no path (libcurl takes the EHLO name from the path).
    public var ehloName: String?
    /// Open a new connection even if the cache holds one to this server (after a stale one failed).
    public var freshConnection = false
    /// A cached connection idle longer than this is closed instead of reused
    /// (`CURLOPT_MAXAGE_CONN`, whole seconds, at least 1); nil keeps libcurl's 118 s.
    public var maxIdle: Duration?
    /// Told the TLS version, the server certificate and the server's replies (never a login),
    /// for a debug log; nil to skip the work.
    public var trace: CurlTrace?

    public init(url: String, mailFrom: String, recipient: String, message: [UInt8], tls: TLS,
                username: String? = nil, password: String? = nil, timeouts: CurlTimeouts = CurlTimeouts(),
                caFile: String? = nil) {
        self.url = url
        self.mailFrom = mailFrom
        self.recipient = recipient
        self.message = message
        self.tls = tls
        self.username = username
        self.password = password
        self.timeouts = timeouts
        self.caFile = caFile
    }
}

/// One HTTP(S) POST; redirects are never followed.
public struct HTTPPostTransfer: Sendable {
    public var url: String
    public var headers: [CurlHeader]
    public var body: [UInt8]
    /// Response bytes kept; the rest is read and dropped (not an error).
    public var responseBodyLimit: Int
    public var timeouts: CurlTimeouts
    public var caFile: String?
    /// Asked with the connected peer's IP before the request is sent; false aborts the transfer.
    public var allowPeer: (@Sendable (String) -> Bool)?

    public init(url: String, headers: [CurlHeader], body: [UInt8], responseBodyLimit: Int = 64 * 1024,
                timeouts: CurlTimeouts = CurlTimeouts(), caFile: String? = nil,
                allowPeer: (@Sendable (String) -> Bool)? = nil) {
        self.url = url
        self.headers = headers
        self.body = body
        self.responseBodyLimit = responseBodyLimit
        self.timeouts = timeouts
        self.caFile = caFile
        self.allowPeer = allowPeer
    }
}

/// What `CurlEngine.perform` can do.
public enum CurlRequest: Sendable {
    case smtp(SMTPTransfer)
    case httpPost(HTTPPostTransfer)
}

/// The outcome of a transfer curl completed (an HTTP 4xx/5xx is a completed transfer).
public struct CurlResponse: Sendable, Equatable {
    /// The final SMTP reply code or HTTP status.
    public var responseCode: Int
    /// Headers of the final HTTP response, in order.
    public var headers: [CurlHeader]
    /// Response body, at most the request's limit.
    public var body: [UInt8]
    /// True when the body was longer than the limit.
    public var bodyTruncated: Bool
    /// The server's last reply lines (SMTP), e.g. "250 2.0.0 Ok: queued as 4XyZ".
    public var serverReply: String?
    /// The address curl connected to.
    public var primaryIP: String?

    public init(responseCode: Int, headers: [CurlHeader] = [], body: [UInt8] = [], bodyTruncated: Bool = false,
                serverReply: String? = nil, primaryIP: String? = nil) {
        self.responseCode = responseCode
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.serverReply = serverReply
        self.primaryIP = primaryIP
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
