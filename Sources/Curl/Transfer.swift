import CCurl

/// One in-flight transfer: the easy handle, the buffers its callbacks fill, and the waiting caller.
/// Lives on the engine thread only; callbacks find it through the userdata pointer, and the
/// engine keeps it alive until curl has finished with the handle.
final class Transfer {
    typealias Continuation = CheckedContinuation<Result<CurlResponse, CurlError>, Never>

    let id: UInt64
    let handle: EasyHandle
    let continuation: Continuation

    private var upload: [UInt8] = []
    private var uploadOffset = 0
    private var body: [UInt8] = []
    private var bodyLimit = 0
    private var bodyTruncated = false
    private var headers: [CurlHeader] = []
    private var replyLines: [String] = []
    private var lastReplyLineWasFinal = true
    /// The last 4xx/5xx reply: after a refusal curl still says QUIT, and "221 Bye" explains nothing.
    private var lastErrorReply: [String] = []
    private var allowPeer: (@Sendable (String) -> Bool)?
    private var refusedPeer: String?
    private var login = LoginWatch()
    /// SMTP only: whether a failure was a cached connection the server had dropped.
    private var session: StaleSession?
    /// The TLS notes and server replies, for a debug log (`SMTPTransfer.trace`).
    private var trace: TransferTrace?

    static let userAgent = "herold/0.1"
    private static let maxReplyLines = 20
    private static let maxReplyLineLength = 512

    init(id: UInt64, continuation: Continuation) throws(CurlError) {
        self.id = id
        self.continuation = continuation
        self.handle = try EasyHandle()
    }

    private var userdata: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    private static func from(_ pointer: UnsafeMutableRawPointer?) -> Transfer? {
        guard let pointer else { return nil }
        return Unmanaged<Transfer>.fromOpaque(pointer).takeUnretainedValue()
    }

    // MARK: configuration

    func configure(_ request: CurlRequest) throws(CurlError) {
        switch request {
        case .smtp(let smtp): try configure(smtp)
        case .httpPost(let post): try configure(post)
        }
    }

    private func configureCommon(url: String, protocols: String, timeouts: CurlTimeouts,
                                 caFile: String?) throws(CurlError) {
        try Self.refuseControlCharacters(url, what: "URL")
        try handle.set(CURLOPT_URL, url)
        try handle.set(CURLOPT_NOSIGNAL, 1)
        try handle.set(CURLOPT_USERAGENT, Self.userAgent)
        try handle.set(CURLOPT_CONNECTTIMEOUT_MS, timeouts.connect.milliseconds)
        try handle.set(CURLOPT_TIMEOUT_MS, timeouts.total.milliseconds)
        try handle.set(CURLOPT_PROTOCOLS_STR, protocols)
        try handle.set(CURLOPT_REDIR_PROTOCOLS_STR, protocols)
        try handle.set(CURLOPT_SSL_VERIFYPEER, 1)
        try handle.set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caFile { try handle.set(CURLOPT_CAINFO, caFile) }
    }

    private func configure(_ smtp: SMTPTransfer) throws(CurlError) {
        let scheme = smtp.url.prefix(while: { $0 != ":" }).lowercased()
        switch (smtp.tls, scheme) {
        case (.implicit, "smtps"), (.starttls, "smtp"), (.none, "smtp"): break
        default:
            throw CurlError(code: CurlError.Code.unsupportedProtocol,
                            message: "TLS mode \(smtp.tls) does not fit the URL scheme \"\(scheme)\"")
        }
        try configureCommon(url: try Self.smtpURL(smtp), protocols: "smtp,smtps", timeouts: smtp.timeouts,
                            caFile: smtp.caFile)
        try Self.refuseControlCharacters(smtp.mailFrom, what: "envelope sender")
        try Self.refuseControlCharacters(smtp.recipient, what: "envelope recipient")
        try configureConnection(smtp)
        try handle.set(CURLOPT_MAIL_FROM, "<\(smtp.mailFrom)>")
        try handle.set(CURLOPT_MAIL_RCPT, list: ["<\(smtp.recipient)>"])
        try handle.set(CURLOPT_USE_SSL, Int(smtp.tls == .none ? CURLUSESSL_NONE.rawValue : CURLUSESSL_ALL.rawValue))
        if let username = smtp.username { try handle.set(CURLOPT_USERNAME, username) }
        if let password = smtp.password { try handle.set(CURLOPT_PASSWORD, password) }
        if let bearer = smtp.bearer {
            try Self.refuseControlCharacters(bearer, what: "OAuth token")
            try handle.set(CURLOPT_XOAUTH2_BEARER, bearer)
        }
        if let options = smtp.loginOptions {
            try Self.refuseControlCharacters(options, what: "login options")
            try handle.set(CURLOPT_LOGIN_OPTIONS, options)
        }

        upload = smtp.message
        try handle.set(CURLOPT_UPLOAD, 1)
        try handle.set(CURLOPT_INFILESIZE_LARGE, offset: Int64(upload.count))
        try handle.set(CURLOPT_READDATA, pointer: userdata)
        try handle.set(CURLOPT_READFUNCTION, callback: { buffer, size, count, user in
            guard let transfer = Transfer.from(user), let buffer else { return 0 }
            // A second guard after the pre-request one: no message byte leaves an unauthenticated session.
            if transfer.login.stop() { return Int(CURL_READFUNC_ABORT) }
            return transfer.read(into: buffer, capacity: size * count)
        })

        // Server reply lines reach us only through the debug callback; we keep the incoming
        // ones only. Of outgoing lines only the command verb is looked at (AUTH carries credentials).
        trace = smtp.trace.map(TransferTrace.init)
        try handle.set(CURLOPT_DEBUGDATA, pointer: userdata)
        try handle.setDebug({ _, type, data, size, user in
            guard let data, let transfer = Transfer.from(user) else { return 0 }
            let bytes = UnsafeRawBufferPointer(start: data, count: size)
            transfer.trace?.observe(type, bytes)
            if type == CURLINFO_HEADER_IN {
                transfer.received(replyBytes: bytes)
            } else if type == CURLINFO_HEADER_OUT {
                transfer.login.sent(command: bytes)
                transfer.session?.sent(command: bytes)
            }
            return 0
        })
        try handle.set(CURLOPT_VERBOSE, 1)
        // With a user name, libcurl logs in only if the server offers AUTH, and otherwise sends
        // without a word. The pre-request callback runs after EHLO/STARTTLS/AUTH and before
        // MAIL FROM: there an unauthenticated session is stopped.
        if smtp.username != nil {
            login.required = true
            try installPrerequest()
        }
    }

    /// Connection reuse: how long a cached session may idle, and whether to ignore the cache.
    private func configureConnection(_ smtp: SMTPTransfer) throws(CurlError) {
        session = StaleSession()
        if let maxIdle = smtp.maxIdle {
            try handle.set(CURLOPT_MAXAGE_CONN, max(1, Int(maxIdle.components.seconds)))
        }
        if smtp.freshConnection { try handle.set(CURLOPT_FRESH_CONNECT, 1) }
    }

    /// The URL with the EHLO name as its path (percent-encoded; libcurl decodes it).
    static func smtpURL(_ smtp: SMTPTransfer) throws(CurlError) -> String {
        guard let name = smtp.ehloName else { return smtp.url }
        try refuseControlCharacters(name, what: "EHLO name")
        var base = Substring(smtp.url)
        while base.hasSuffix("/") { base = base.dropLast() }
        if let schemeEnd = base.range(of: "://"), base[schemeEnd.upperBound...].contains("/") {
            throw CurlError(code: CurlError.Code.urlMalformed,
                            message: "the URL already has a path (an EHLO name); give the EHLO name only once")
        }
        let encoded = name.utf8.map { byte -> String in
            let plain = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            return plain ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded
        }
        return base + "/" + encoded.joined()
    }

    /// The pre-request callback: the peer check (webhooks) and the login check (SMTP).
    private func installPrerequest() throws(CurlError) {
        try handle.set(CURLOPT_PREREQDATA, pointer: userdata)
        try handle.setPrereq({ user, primaryIP, _, _, _ in
            guard let transfer = Transfer.from(user), let primaryIP else { return CURL_PREREQFUNC_ABORT }
            return transfer.mayStart(peer: String(cString: primaryIP)) ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT
        })
    }

    private func configure(_ post: HTTPPostTransfer) throws(CurlError) {
        try configureCommon(url: post.url, protocols: "http,https", timeouts: post.timeouts, caFile: post.caFile)
        var lines: [String] = []
        for header in post.headers {
            try Self.refuseControlCharacters(header.name, what: "header name")
            try Self.refuseControlCharacters(header.value, what: "header \(header.name)")
            lines.append("\(header.name): \(header.value)")
        }
        // No 100-continue round trip: the body is small and already in memory.
        lines.append("Expect:")
        try handle.set(CURLOPT_HTTPHEADER, list: lines)
        try handle.set(CURLOPT_FOLLOWLOCATION, 0)
        try handle.set(CURLOPT_POST, 1)
        try handle.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(post.body.count))
        // COPYPOSTFIELDS copies `POSTFIELDSIZE` bytes now, so the array may go away afterwards.
        // An empty array may have no base address; one spare byte gives it one (size stays 0).
        var bodyCopy = post.body.isEmpty ? [0] : post.body
        let rc: CURLcode = bodyCopy.withUnsafeMutableBytes { bytes in
            herold_easy_setopt_pointer(handle.raw, CURLOPT_COPYPOSTFIELDS, bytes.baseAddress)
        }
        if rc != CURLE_OK { throw handle.error(rc) }

        bodyLimit = max(0, post.responseBodyLimit)
        try handle.set(CURLOPT_WRITEDATA, pointer: userdata)
        try handle.set(CURLOPT_WRITEFUNCTION, callback: { data, size, count, user in
            guard let transfer = Transfer.from(user) else { return 0 }
            transfer.received(body: UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        try handle.set(CURLOPT_HEADERDATA, pointer: userdata)
        try handle.set(CURLOPT_HEADERFUNCTION, callback: { data, size, count, user in
            guard let transfer = Transfer.from(user) else { return 0 }
            transfer.received(headerLine: UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        if let allowPeer = post.allowPeer {
            self.allowPeer = allowPeer
            try installPrerequest()
        }
    }

    private static func refuseControlCharacters(_ text: String, what: String) throws(CurlError) {
        if text.utf8.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) {
            throw CurlError(code: CurlError.Code.badFunctionArgument,
                            message: "\(what) contains CR, LF or NUL; refused")
        }
    }

    // MARK: callbacks (engine thread)

    private func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        let count = min(capacity, upload.count - uploadOffset)
        guard count > 0 else { return 0 }
        upload.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            UnsafeMutableRawPointer(buffer).copyMemory(from: base + uploadOffset, byteCount: count)
        }
        uploadOffset += count
        return count
    }

    private func received(body chunk: UnsafeRawBufferPointer) {
        let room = bodyLimit - body.count
        if chunk.count > room { bodyTruncated = true }
        if room > 0 { body.append(contentsOf: chunk.prefix(room)) }
    }

    private func received(headerLine bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingTrailingNewlines()
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after 100 Continue, or a proxy's CONNECT reply)
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            headers.append(CurlHeader(name: name, value: String(value)))
        }
    }

    private func received(replyBytes bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\r\n" || $0 == "\n" }) {
            let line = String(raw.prefix(Self.maxReplyLineLength))
            if lastReplyLineWasFinal { replyLines.removeAll() }
            if replyLines.count < Self.maxReplyLines { replyLines.append(line) }
            // "250-..." continues a multi-line reply; "250 ..." (or a bare "250") ends it.
            let utf8 = Array(line.utf8)
            lastReplyLineWasFinal = utf8.count <= 3 || utf8[3] != UInt8(ascii: "-")
            login.received(line: line, final: lastReplyLineWasFinal)
            if lastReplyLineWasFinal { session?.received(finalReply: line) }
            if lastReplyLineWasFinal, let first = utf8.first, first == UInt8(ascii: "4") || first == UInt8(ascii: "5") {
                lastErrorReply = replyLines
            }
        }
    }

    private func mayStart(peer: String) -> Bool {
        guard allowPeer?(peer) ?? true else {
            refusedPeer = peer
            return false
        }
        return !login.stop()
    }

    // MARK: completion

    func result(_ code: CURLcode) -> Result<CurlResponse, CurlError> {
        let responseCode = handle.info(long: CURLINFO_RESPONSE_CODE) ?? 0
        let reply = replyLines.isEmpty ? nil : replyLines.joined(separator: "\n")
        guard code == CURLE_OK else {
            var error = handle.error(code)
            error.responseCode = responseCode
            error.serverReply = lastErrorReply.isEmpty ? reply : lastErrorReply.joined(separator: "\n")
            if let refusedPeer {
                error.refusedPeer = refusedPeer
                error.message = "connection to \(refusedPeer) refused: address not allowed"
            } else if login.stopped {
                error.notLoggedIn = true
                error.message = login.refusal
            }
            error.staleConnection = session?.isStale(code: error.code, responseCode: responseCode,
                                                     newConnections: handle.info(long: CURLINFO_NUM_CONNECTS)) ?? false
            return .failure(error)
        }
        return .success(CurlResponse(responseCode: responseCode, headers: headers, body: body,
                                     bodyTruncated: bodyTruncated, serverReply: reply,
                                     primaryIP: handle.info(string: CURLINFO_PRIMARY_IP)))
    }
}

extension String {
    /// Two hex digits for a byte below 0x10 too.
    fileprivate var leftPadded: String { count < 2 ? "0" + self : self }
}

extension Duration {
    /// Whole milliseconds, at least 1 so a tiny timeout never means "no timeout" (0) to curl.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int(max(1, min(ms, Int64(Int32.max))))
    }
}
