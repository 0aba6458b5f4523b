import Foundation
import Glibc
import HeroldCore
import XCTest
@testable import HeroldMetrics

/// The `/metrics` listener over a real socket, its HTTP answers, and the textfile writer.
final class ExposureTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herold-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: - HTTP

    func testGetMetricsAnswersTheTextFormatWithLengthAndClose() {
        let response = respond("GET /metrics HTTP/1.1\r\nHost: herold\r\nAccept: */*\r\n\r\n", body: "herold_x 1\n")
        XCTAssertEqual(response, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                       + "Content-Length: 11\r\nConnection: close\r\n\r\nherold_x 1\n")
        // Prometheus adds no query, but a scraper that does still gets the metrics.
        XCTAssertTrue(respond("GET /metrics?x=1 HTTP/1.0\n\n", body: "a").hasPrefix("HTTP/1.1 200 OK"))
    }

    func testHeadGivesTheLengthWithoutTheBody() {
        let response = respond("HEAD /metrics HTTP/1.1\r\n\r\n", body: "herold_x 1\n")
        XCTAssertTrue(response.contains("Content-Length: 11\r\n"))
        XCTAssertTrue(response.hasSuffix("\r\n\r\n"))
    }

    func testOtherPathsMethodsAndGarbageAreRefused() {
        XCTAssertTrue(respond("GET / HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404 Not Found"))
        XCTAssertTrue(respond("GET /metricsX HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 404 "))
        let post = respond("POST /metrics HTTP/1.1\r\n\r\n")
        XCTAssertTrue(post.hasPrefix("HTTP/1.1 405 Method Not Allowed"))
        XCTAssertTrue(post.contains("Allow: GET, HEAD\r\n"))
        XCTAssertTrue(respond("hello\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        XCTAssertTrue(respond("GET /metrics SPDY/3\r\n\r\n").hasPrefix("HTTP/1.1 400 "))
        let long = "GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: 9000) + "\r\n\r\n"
        XCTAssertTrue(respond(long).hasPrefix("HTTP/1.1 431 "))
    }

    func testARequestHeadIsCompleteAtItsBlankLine() {
        XCTAssertFalse(ScrapeResponse.isComplete(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8)))
        XCTAssertTrue(ScrapeResponse.isComplete(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8)))
        XCTAssertTrue(ScrapeResponse.isComplete(Array("GET /metrics HTTP/1.0\n\n".utf8)))
    }

    private func respond(_ head: String, body: String = "") -> String {
        String(decoding: ScrapeResponse.respond(to: Array(head.utf8)) { Array(body.utf8) }, as: UTF8.self)
    }

    // MARK: - The listener

    func testListenerServesTheMetricsOnLoopback() throws {
        let metrics = DaemonMetrics()
        metrics.eventsAccepted(5)
        let listener = try MetricsListener(host: "127.0.0.1", port: 0)
        listener.start { metrics.exposition() }
        defer { listener.stop() }
        let port = try XCTUnwrap(Int(listener.address.split(separator: ":").last ?? ""))
        XCTAssertNotEqual(port, 0)
        let first = try exchange(port: port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        XCTAssertTrue(first.hasPrefix("HTTP/1.1 200 OK\r\n"), first)
        XCTAssertTrue(first.contains("\nherold_events_accepted_total 5\n"), first)
        metrics.eventsAccepted(2)
        let second = try exchange(port: port, "GET /metrics HTTP/1.1\r\n\r\n")
        XCTAssertTrue(second.contains("\nherold_events_accepted_total 7\n"), "each scrape renders anew")
    }

    func testListenerOnIPv6Loopback() throws {
        let listener = try MetricsListener(host: "::1", port: 0)
        XCTAssertTrue(listener.address.hasPrefix("[::1]:"), listener.address)
    }

    func testASilentClientDoesNotHoldTheEndpointForLong() throws {
        let metrics = DaemonMetrics()
        let listener = try MetricsListener(host: "127.0.0.1", port: 0)
        listener.start { metrics.exposition() }
        defer { listener.stop() }
        let port = try XCTUnwrap(Int(listener.address.split(separator: ":").last ?? ""))
        let silent = try connect(port: port)
        defer { close(silent) }
        let started = Date()
        let answer = try exchange(port: port, "GET /metrics HTTP/1.1\r\n\r\n")
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK"), answer)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "the silent client is dropped after its 5 s")
    }

    func testABusyPortIsATransientErrorNamingTheAddress() throws {
        let first = try MetricsListener(host: "127.0.0.1", port: 0)
        let port = try XCTUnwrap(Int(first.address.split(separator: ":").last ?? ""))
        XCTAssertThrowsError(try MetricsListener(host: "127.0.0.1", port: port)) { error in
            guard let error = error as? MetricsExportError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.errno, EADDRINUSE)
            XCTAssertTrue(error.isTransient)
            XCTAssertTrue(error.description.contains("bind 127.0.0.1:\(port)"), error.description)
        }
    }

    func testStopClosesTheSocket() throws {
        let listener = try MetricsListener(host: "127.0.0.1", port: 0)
        let port = try XCTUnwrap(Int(listener.address.split(separator: ":").last ?? ""))
        listener.start { [] }
        listener.stop()
        XCTAssertTrue(waitUntil { listener.isStopped })
        XCTAssertThrowsError(try connect(port: port), "nothing listens after stop")
    }

    // MARK: - The textfile

    func testTextfileIsReplacedWholeAndReadableByOthers() throws {
        let path = directory.appendingPathComponent("herold.prom").path
        let writer = TextfileWriter(path: path)
        let previous = umask(0o077)
        defer { umask(previous) }
        try writer.write(Array("herold_x 1\n".utf8))
        try writer.write(Array("herold_x 2\n".utf8))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "herold_x 2\n")
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o777, 0o644, "node-exporter runs as another user")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["herold.prom"],
                       "no temporary file is left beside it")
    }

    func testTextfileInAMissingFolderFailsNamingThePath() {
        let path = directory.appendingPathComponent("missing/herold.prom").path
        XCTAssertThrowsError(try TextfileWriter(path: path).write([])) { error in
            guard let error = error as? MetricsExportError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.errno, ENOENT)
            XCTAssertFalse(error.isTransient)
            XCTAssertTrue(error.description.contains(path), error.description)
        }
    }

    // MARK: - Helpers

    private func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    /// Sends `request` and reads the answer to the end (the listener closes after it).
    private func exchange(port: Int, _ request: String) throws -> String {
        let fd = try connect(port: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            answer += chunk[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    private func waitUntil(timeout: TimeInterval = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else { return false }
            usleep(20_000)
        }
        return true
    }
}
