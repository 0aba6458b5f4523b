import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `metrics:` — where herold shows its Prometheus metrics. Off by default: without `listen`
/// or `textfile` nothing is served or written.
public struct MetricsConfig: Sendable, Equatable {
    /// `listen: HOST:PORT` — an HTTP endpoint, `GET /metrics`. HOST is a literal address.
    public var listen: ListenAddress?
    /// `textfile: PATH` — a `*.prom` file for node-exporter's textfile collector, rewritten
    /// (atomically) every `interval`.
    public var textfile: URL?
    /// `interval: 10s` — how often the gauges read from the journal are refreshed and the
    /// textfile is written (1s to 5m).
    public var interval: TimeInterval = 10
    /// `allow_remote: true` — let `listen` take an address other than the loopback. Off by
    /// default: the endpoint has no password and no TLS, and its numbers name the partners'
    /// endpoints and how much mail goes out.
    public var allowRemote = false

    public init(listen: ListenAddress? = nil, textfile: URL? = nil, interval: TimeInterval = 10, allowRemote: Bool = false) {
        self.listen = listen
        self.textfile = textfile
        self.interval = interval
        self.allowRemote = allowRemote
    }

    /// Whether anything is to be served or written.
    public var isEnabled: Bool { listen != nil || textfile != nil }
}

/// A literal address and port to listen on: `127.0.0.1:9464`, `[::1]:9464`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The address without brackets: `127.0.0.1`, `::1`.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// 127.0.0.0/8 or ::1 (written in full or short).
    public var isLoopback: Bool {
        if let octets = Self.ipv4(host) { return octets[0] == 127 }
        guard let bytes = Self.ipv6(host) else { return false }
        return bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1
    }

    /// Reads `HOST:PORT`, or says what is wrong with it.
    public static func parse(_ text: String) -> Result<ListenAddress, ListenAddressProblem> {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return .failure(.form)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard ipv6(String(host)) != nil else {
                return .failure(.host(String(host)))
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return .failure(.form) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard ipv4(String(host)) != nil else {
                return .failure(host.contains(":") ? .form : .host(String(host)))
            }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText),
              (1...65535).contains(port) else {
            return .failure(.port(String(portText)))
        }
        return .success(ListenAddress(host: String(host), port: port))
    }

    /// The 16 bytes of an IPv6 address in any of its written forms (inet_pton: no I/O).
    private static func ipv6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    private static func ipv4(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let octets = parts.compactMap { part -> Int? in
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(part).flatMap { $0 <= 255 ? $0 : nil }
        }
        return parts.count == 4 && octets.count == 4 ? octets : nil
    }
}

/// Why a `listen` value is not an address to listen on.
public enum ListenAddressProblem: Error, Equatable {
    /// Not `HOST:PORT`.
    case form
    /// The host is not a literal IPv4 or IPv6 address.
    case host(String)
    /// The port is not a number from 1 to 65535.
    case port(String)
}
