import CCurl

/// A line of libcurl's debug output worth a debug log or a connection check: the TLS version
/// and cipher, the server certificate's subject and issuer, and the server's SMTP replies.
/// Outgoing lines are never read (AUTH carries credentials), and neither are the server's AUTH
/// challenges (334), which a mechanism may fill with data of the login.
public enum CurlTraceLine: Sendable, Equatable {
    /// `TLSv1.3 / TLS_AES_256_GCM_SHA384`, once per new TLS connection.
    case tls(String)
    /// The peer certificate's subject, `CN=localhost`.
    case certificateSubject(String)
    /// The peer certificate's issuer, `CN=herold test CA`.
    case certificateIssuer(String)
    /// One SMTP reply line, `250-AUTH PLAIN LOGIN`.
    case reply(String)
}

/// Receives a transfer's trace lines, on the curl thread, as they come.
public typealias CurlTrace = @Sendable (CurlTraceLine) -> Void

/// Turns the debug callback's chunks into `CurlTraceLine`s. Lives on the thread of its transfer.
final class TransferTrace {
    private let sink: CurlTrace
    private static let maxLineLength = 512

    init(_ sink: @escaping CurlTrace) { self.sink = sink }

    /// One chunk from the debug callback; only curl's own notes and incoming protocol lines are read.
    func observe(_ type: curl_infotype, _ bytes: UnsafeRawBufferPointer) {
        guard type == CURLINFO_TEXT || type == CURLINFO_HEADER_IN else { return }
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        for raw in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = String(raw.prefix(Self.maxLineLength))
            if let parsed = type == CURLINFO_TEXT ? Self.parse(note: line) : Self.parse(reply: line) { sink(parsed) }
        }
    }

    /// curl's note lines (OpenSSL backend): `SSL connection using TLSv1.3 / …`, ` subject: CN=…`, ` issuer: CN=…`.
    static func parse(note line: String) -> CurlTraceLine? {
        let trimmed = Substring(line).drop { $0 == " " || $0 == "*" }
        for (prefix, make) in [("SSL connection using ", CurlTraceLine.tls), ("subject: ", CurlTraceLine.certificateSubject),
                               ("issuer: ", CurlTraceLine.certificateIssuer)] where trimmed.hasPrefix(prefix) {
            return make(String(trimmed.dropFirst(prefix.count)))
        }
        return nil
    }

    /// An SMTP reply line; AUTH challenges (334) are left out.
    static func parse(reply line: String) -> CurlTraceLine? {
        guard !line.isEmpty, !line.hasPrefix("334") else { return nil }
        return .reply(line)
    }
}
