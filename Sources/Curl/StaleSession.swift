/// Follows one SMTP transfer's session to tell, when it fails, whether it failed only because
/// the cached connection it reused had been closed by the server meanwhile (the relay's idle
/// timeout: Postfix answers the next command with `421` or the socket is simply gone), before
/// the server accepted anything of this message. Only then may the transfer be redone, once,
/// on a new connection, without anyone counting an attempt.
///
/// Once `DATA` has been sent the server may have taken the message (the reply to the final dot
/// can be lost with the connection), so such a failure is never called stale: resending could
/// deliver twice. It goes the normal way (deferred, retried later).
struct StaleSession {
    /// This transfer sent EHLO or HELO: it opened its own session, so nothing was reused.
    private(set) var openedSession = false
    /// The server answered something in this transfer with 2xx or 3xx (MAIL, RCPT, DATA's 354).
    private(set) var accepted = false
    /// This transfer sent `DATA`: from here on a failure may hide a delivered message.
    private(set) var sentData = false

    /// An outgoing command line; only its verb is read (AUTH lines carry credentials).
    mutating func sent(command bytes: UnsafeRawBufferPointer) {
        switch String(decoding: bytes.prefix(5), as: UTF8.self).uppercased() {
        case "EHLO ", "HELO ": openedSession = true
        case "DATA\r", "DATA\n", "DATA": sentData = true
        default: break
        }
    }

    /// The final line of a server reply.
    mutating func received(finalReply line: String) {
        if let first = line.utf8.first, first == UInt8(ascii: "2") || first == UInt8(ascii: "3") { accepted = true }
    }

    /// Whether a failure with curl's `code` and the last reply `responseCode` is the server having
    /// dropped the reused connection: it ended before the server accepted anything, and the first
    /// thing it met was a dead socket (send or receive error, nothing received) or a `421`
    /// (service closing the channel). `newConnections` is libcurl's `CURLINFO_NUM_CONNECTS`
    /// (0: the transfer ran on a cached connection).
    func isStale(code: Int, responseCode: Int, newConnections: Int?) -> Bool {
        guard newConnections == 0, !openedSession, !accepted, !sentData else { return false }
        let deadSocket: Set<Int> = [CurlError.Code.gotNothing, CurlError.Code.sendError, CurlError.Code.recvError]
        return deadSocket.contains(code) || responseCode == 421
    }
}
