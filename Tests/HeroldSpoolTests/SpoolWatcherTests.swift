import Foundation
import Glibc
import XCTest
@testable import HeroldSpool

final class SpoolWatcherTests: XCTestCase {
    var base: URL!
    var spool: Spool!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory
            .appendingPathComponent("herold-watch-\(UUID().uuidString)", isDirectory: true)
        spool = Spool(root: base)
        try spool.prepare()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: base)
    }

    /// The next signal, or nil if none comes within `timeout` (the watcher is then stopped).
    private func next(_ iterator: inout AsyncStream<SpoolSignal>.Iterator, of watcher: SpoolWatcher,
                      timeout: Duration = .seconds(2)) async -> SpoolSignal? {
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            watcher.stop()
        }
        defer { watchdog.cancel() }
        return await iterator.next()
    }

    func testNoticesFileRenamedIntoNew() async throws {
        let watcher = try SpoolWatcher(spool: spool)
        defer { watcher.stop() }
        var signals = watcher.signals.makeAsyncIterator()
        let start = ContinuousClock.now
        let name = try spool.enqueue(Data("{}".utf8))
        let signal = await next(&signals, of: watcher)
        XCTAssertEqual(signal, .file(name))
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
    }

    func testReportsFileWrittenDirectlyInNewOnClose() async throws {
        let watcher = try SpoolWatcher(spool: spool)
        defer { watcher.stop() }
        var signals = watcher.signals.makeAsyncIterator()
        // A dotfile (a producer's partial write) is not reported; the real file is.
        try Data("partial".utf8).write(to: spool.new.appendingPathComponent(".partial"))
        let path = spool.new.appendingPathComponent("direct.json").path
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o640)
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = "{}".withCString { Glibc.write(fd, $0, 2) }
        close(fd)
        let signal = await next(&signals, of: watcher)
        XCTAssertEqual(signal, .file("direct.json"))
    }

    func testStopEndsTheStreamAndIsIdempotent() async throws {
        let watcher = try SpoolWatcher(spool: spool)
        let consumer = Task {
            var seen: [SpoolSignal] = []
            for await signal in watcher.signals { seen.append(signal) }
            return seen
        }
        let name = try spool.enqueue(Data("{}".utf8))
        try await Task.sleep(for: .milliseconds(200))
        watcher.stop()
        watcher.stop()
        let seen = await consumer.value
        XCTAssertEqual(seen, [.file(name)])
        XCTAssertNil(watcher.failure)
    }

    /// The stream ends by itself (no stop()), and `failure` names the folder and the cause.
    private func expectLost(_ watcher: SpoolWatcher, saying cause: String,
                            file: StaticString = #filePath, line: UInt = #line) async {
        var signals = watcher.signals.makeAsyncIterator()
        let signal = await next(&signals, of: watcher, timeout: .seconds(10))
        XCTAssertNil(signal, file: file, line: line)
        let failure = watcher.failure.map { "\($0)" } ?? "no failure"
        XCTAssertTrue(failure.contains("spool folder \(spool.new.path) \(cause)"), failure, file: file, line: line)
        XCTAssertTrue(failure.contains("herold no longer sees new files there"), failure, file: file, line: line)
    }

    // The spool holds new/ open (as herold does): a deleted folder's own IN_DELETE_SELF
    // would wait for that descriptor, so the parent's events must tell.
    func testRemovedNewFolderEndsStreamWithFailure() async throws {
        let watcher = try SpoolWatcher(spool: spool)
        defer { watcher.stop() }
        XCTAssertEqual(rmdir(spool.new.path), 0)
        await expectLost(watcher, saying: "was deleted")
    }

    func testMovedNewFolderEndsStreamWithFailure() async throws {
        let watcher = try SpoolWatcher(spool: spool)
        defer { watcher.stop() }
        XCTAssertEqual(rename(spool.new.path, base.appendingPathComponent("new.away").path), 0)
        await expectLost(watcher, saying: "was moved away")
    }

    func testReplacedNewFolderEndsStreamWithFailure() async throws {
        let watcher = try SpoolWatcher(spool: spool)
        defer { watcher.stop() }
        let replacement = base.appendingPathComponent("new.replacement")
        XCTAssertEqual(mkdir(replacement.path, 0o770), 0)
        XCTAssertEqual(rename(replacement.path, spool.new.path), 0)
        await expectLost(watcher, saying: "was replaced")
    }

    func testNameThatIsNotUTF8IsReportedByItsPrintableText() async throws {
        let watcher = try SpoolWatcher(spool: spool)
        defer { watcher.stop() }
        var signals = watcher.signals.makeAsyncIterator()
        // "ł.json" in ISO-8859-2, renamed in as a producer would.
        let name: [CChar] = [CChar(bitPattern: 0xB3)] + Array(".json".utf8).map { CChar(bitPattern: $0) } + [0]
        let from = Array(spool.tmp.path.utf8CString.dropLast()) + [0x2F] + name
        let to = Array(spool.new.path.utf8CString.dropLast()) + [0x2F] + name
        let fd = open(from, O_CREAT | O_WRONLY | O_CLOEXEC, 0o640)
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        XCTAssertEqual(rename(from, to), 0)
        let signal = await next(&signals, of: watcher)
        XCTAssertEqual(signal, .file("%B3.json"))
        XCTAssertEqual(try spool.listNew(), ["%B3.json"])
    }

    func testWatchingMissingFolderThrows() throws {
        XCTAssertThrowsError(try SpoolWatcher(directory: base.appendingPathComponent("missing"))) { error in
            XCTAssertTrue("\(error)".contains("missing"), "\(error)")
        }
    }
}
