/// A libcurl failure: the CURLcode, curl's message and, when a server said no, its reply.
public struct CurlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libcurl's `CURLcode` (e.g. 7 couldn't connect, 28 timed out).
    public var code: Int
    /// curl's error buffer text, or `curl_easy_strerror` when the buffer is empty.
    public var message: String
    /// The last protocol reply code (SMTP or HTTP) seen before the failure; 0 when none.
    public var responseCode: Int
    /// The server's last reply lines (SMTP), when captured.
    public var serverReply: String?
    /// The peer address refused by a request's `allowPeer` check, when that aborted the transfer.
    public var refusedPeer: String?
    /// True when an SMTP transfer with a user name was stopped before `MAIL FROM` because the
    /// session did not log in (the server offered no AUTH): nothing was sent.
    public var notLoggedIn = false
    /// True when an SMTP transfer ran on a cached connection the server had closed meanwhile (its
    /// idle timeout) and failed before the server accepted anything of the message, `DATA`
    /// unsent: nothing was delivered, so the transfer may be redone at once on a new
    /// connection (`SMTPTransfer.freshConnection`).
    public var staleConnection = false

    public init(code: Int, message: String, responseCode: Int = 0, serverReply: String? = nil,
                refusedPeer: String? = nil, notLoggedIn: Bool = false) {
        self.code = code
        self.message = message
        self.notLoggedIn = notLoggedIn
        self.responseCode = responseCode
        self.serverReply = serverReply
        self.refusedPeer = refusedPeer
    }

    public var description: String {
        var text = "curl error \(code): \(message)"
        if let serverReply { text += " (server: \(serverReply))" }
        return text
    }

    /// The CURLcode values callers classify by, so they need not import CCurl.
    public enum Code {
        public static let unsupportedProtocol = 1
        public static let failedInit = 2
        public static let urlMalformed = 3
        public static let couldntResolveProxy = 5
        public static let couldntResolveHost = 6
        public static let couldntConnect = 7
        public static let weirdServerReply = 8
        public static let partialFile = 18
        public static let readError = 26
        public static let outOfMemory = 27
        public static let operationTimedOut = 28
        public static let abortedByCallback = 42
        public static let badFunctionArgument = 43
        public static let gotNothing = 52
        public static let sendError = 55
        public static let recvError = 56
        public static let sslCertProblem = 58
        public static let sslCipher = 59
        public static let peerFailedVerification = 60
        public static let useSSLFailed = 64
        public static let loginDenied = 67
        public static let sslCACertBadFile = 77
        public static let sslIssuerError = 83
        public static let sslPinnedPubKeyNotMatch = 90
        public static let sslInvalidCertStatus = 91
        public static let sslConnectError = 35
    }
}
