// Linux only, like the spool: plain POSIX sockets, one thread.
import Foundation
import Glibc
import Synchronization

/// The `/metrics` endpoint: a socket bound to the configured address and one thread that
/// accepts a connection, reads its request head, answers and closes it, then takes the
/// next. A scrape is a few kilobytes once every few seconds, so one at a time is plenty;
/// each connection has 5 seconds to send its request and take its answer, so a stuck
/// client holds the endpoint up for 5 seconds at most and never touches delivery.
public final class MetricsListener: Sendable {
    /// The address as bound, e.g. `127.0.0.1:9464` (the real port when 0 was asked for).
    public let address: String
    private let socket: Int32
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    static let clientTimeout = timeval(tv_sec: 5, tv_usec: 0)

    /// Binds and listens on `host` (a literal IPv4 or IPv6 address) and `port`.
    public init(host: String, port: Int) throws(MetricsExportError) {
        let shown = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var storage = sockaddr_storage()
        let length: socklen_t
        let family: Int32
        if let v4 = Self.ipv4(host, port: port) {
            family = AF_INET
            length = Self.copy(v4, into: &storage)
        } else if let v6 = Self.ipv6(host, port: port) {
            family = AF_INET6
            length = Self.copy(v6, into: &storage)
        } else {
            throw MetricsExportError(call: "inet_pton", address: shown, errno: EINVAL)
        }
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw MetricsExportError(call: "socket", address: shown, errno: errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw MetricsExportError(call: bound == 0 ? "listen" : "bind", address: shown, errno: code)
        }
        socket = fd
        address = Self.boundAddress(fd, host: host) ?? shown
    }

    /// Serves `render()` on a thread of its own until `stop()`.
    public func start(render: @escaping @Sendable () -> [UInt8]) {
        guard !started.exchange(true, ordering: .relaxed) else { return }
        let thread = Thread { [self] in serve(render) }
        thread.name = "herold-metrics"
        thread.start()
    }

    deinit {
        if !started.load(ordering: .relaxed) { Glibc.close(socket) }
    }

    /// Stops accepting; the socket closes within a fraction of a second.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
    }

    /// Whether the serving thread has closed the socket.
    public var isStopped: Bool { stopped.load(ordering: .relaxed) }

    private func serve(_ render: () -> [UInt8]) {
        defer {
            Glibc.close(socket)
            stopped.store(true, ordering: .relaxed)
        }
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        while !stopping.load(ordering: .relaxed) {
            poller.revents = 0
            guard poll(&poller, 1, 250) > 0 else { continue }
            let client = accept(socket, nil, nil)
            guard client >= 0 else {
                // EMFILE and the like: give the system a moment instead of spinning.
                if errno != EINTR, errno != EAGAIN, errno != ECONNABORTED { usleep(100_000) }
                continue
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            answer(client, render)
            Glibc.close(client)
        }
    }

    private func answer(_ client: Int32, _ render: () -> [UInt8]) {
        var timeout = Self.clientTimeout
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while head.count <= ScrapeResponse.maxHead, !ScrapeResponse.isComplete(head) {
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }  // closed, or silent past the timeout
            head += chunk[0..<count]
        }
        let response = ScrapeResponse.respond(to: head, body: render)
        var sent = 0
        while sent < response.count {
            let count = response[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            sent += count
        }
    }

    // MARK: - Addresses

    private static func ipv4(_ host: String, port: Int) -> sockaddr_in? {
        var address = sockaddr_in()
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        return address
    }

    private static func ipv6(_ host: String, port: Int) -> sockaddr_in6? {
        var address = sockaddr_in6()
        guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { return nil }
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        return address
    }

    private static func copy<T>(_ value: T, into storage: inout sockaddr_storage) -> socklen_t {
        withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeBytes(of: value) { raw.copyMemory(from: $0) }
        }
        return socklen_t(MemoryLayout<T>.size)
    }

    /// `host:port` with the port the kernel gave (for a requested port 0).
    private static func boundAddress(_ fd: Int32, host: String) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return nil }
        let port: UInt16 = withUnsafeBytes(of: &storage) { raw in
            // sin_port and sin6_port sit at the same offset, after the family.
            UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
        }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
