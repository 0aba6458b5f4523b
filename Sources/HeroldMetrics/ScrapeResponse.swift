/// The listener's HTTP, as pure functions over bytes: what a request head asks for, and the
/// whole response to it. One request per connection (`Connection: close`), so there is no
/// keep-alive, no chunking and no request body to read.
enum ScrapeResponse {
    /// Largest request head read; a longer one is answered 431.
    static let maxHead = 8192

    /// Whether `bytes` hold a complete request head (up to the blank line).
    static func isComplete(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && headEnd(bytes) != nil
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 0x0A, bytes[index + 1] == 0x0A { return index }
            if bytes[index] == 0x0A, bytes[index + 1] == 0x0D, index + 2 < bytes.count, bytes[index + 2] == 0x0A {
                return index
            }
            index += 1
        }
        return nil
    }

    /// The response to the request head `head`; `body()` renders the metrics, only when asked.
    static func respond(to head: [UInt8], body: () -> [UInt8]) -> [UInt8] {
        guard head.count <= maxHead else { return make(431, "Request Header Fields Too Large") }
        let firstLine = head.prefix { $0 != 0x0A && $0 != 0x0D }
        let parts = firstLine.split(separator: 0x20, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return make(400, "Bad Request") }
        let method = parts[0]
        let path = parts[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard path == "/metrics" else {
            return make(404, "Not Found", text: "herold serves its metrics at /metrics\n")
        }
        switch method {
        case "GET": return make(200, "OK", contentType: DaemonMetrics.contentType, body: body())
        case "HEAD": return make(200, "OK", contentType: DaemonMetrics.contentType, body: body(), headOnly: true)
        default: return make(405, "Method Not Allowed", extra: "Allow: GET, HEAD\r\n")
        }
    }

    private static func make(_ status: Int, _ reason: String, text: String? = nil, extra: String = "") -> [UInt8] {
        make(status, reason, contentType: "text/plain; charset=utf-8", body: Array((text ?? "\(reason)\n").utf8), extra: extra)
    }

    private static func make(_ status: Int, _ reason: String, contentType: String, body: [UInt8],
                             headOnly: Bool = false, extra: String = "") -> [UInt8] {
        let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
            + "Connection: close\r\n\(extra)\r\n"
        return Array(head.utf8) + (headOnly ? [] : body)
    }
}
