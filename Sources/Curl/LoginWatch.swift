/// Follows one SMTP transfer's session from the debug callback's lines to tell whether it
/// logged in. libcurl, given a user name, logs in only when the server offers AUTH, and
/// otherwise carries on without it; herold must then not send.
///
/// A transfer on a reused connection sees no EHLO: that connection was opened, with the same
/// credentials (libcurl reuses SMTP connections only for the same user), by an earlier transfer
/// that passed this check, because a stopped transfer's connection is closed (`smtp_done`
/// closes on any error).
struct LoginWatch {
    /// Set when the transfer has a user name.
    var required = false
    /// This transfer sent EHLO or HELO, so the session is its own.
    private(set) var openedSession = false
    /// The latest EHLO reply listed AUTH.
    private(set) var authOffered = false
    /// The server answered 235 (authentication succeeded).
    private(set) var loggedIn = false

    /// Set once `stop()` said yes: the transfer ended for want of a login, not for another error.
    private(set) var stopped = false

    /// Whether the transfer must stop now, before `MAIL FROM` (or before the message's first byte).
    mutating func stop() -> Bool {
        if required && openedSession && !loggedIn { stopped = true }
        return stopped
    }

    /// Why it stopped, for the error message.
    var refusal: String {
        authOffered
            ? "the SMTP login did not complete, so the message was not sent"
            : "the server offered no AUTH after EHLO, but a username is set: the message was not sent without logging in"
    }

    /// An outgoing command line; only its verb is read (AUTH lines carry credentials).
    mutating func sent(command bytes: UnsafeRawBufferPointer) {
        let verb = String(decoding: bytes.prefix(5), as: UTF8.self).uppercased()
        if verb == "EHLO " || verb == "HELO " {
            openedSession = true
            authOffered = false
        }
    }

    /// One incoming reply line (`final` when it ends its reply).
    mutating func received(line: String, final: Bool) {
        let upper = line.uppercased()
        if upper.hasPrefix("250-AUTH") || upper.hasPrefix("250 AUTH") { authOffered = true }
        if final, upper.hasPrefix("235") { loggedIn = true }
    }
}
