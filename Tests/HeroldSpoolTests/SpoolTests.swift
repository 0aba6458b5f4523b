import Foundation
import Glibc
import XCTest
@testable import HeroldSpool

final class SpoolTests: XCTestCase {
    var base: URL!
    var spool: Spool!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory
            .appendingPathComponent("herold-spool-\(UUID().uuidString)", isDirectory: true)
        spool = Spool(root: base.appendingPathComponent("var/spool/herold"))
        try spool.prepare()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: base)
    }

    private func mode(_ url: URL) throws -> mode_t {
        try Syscall.lstat(url.path).st_mode & 0o7777
    }

    private func write(_ text: String, to name: String, in folder: URL? = nil) throws {
        try Data(text.utf8).write(to: (folder ?? spool.new).appendingPathComponent(name))
    }

    private func setModified(_ name: String, _ date: Date, in folder: URL? = nil) throws {
        try FileManager.default.setAttributes([.modificationDate: date],
                                              ofItemAtPath: (folder ?? spool.new).appendingPathComponent(name).path)
    }

    func testPrepareCreatesFoldersWithSafeModes() throws {
        XCTAssertEqual(try mode(spool.root), 0o750)
        XCTAssertEqual(try mode(spool.tmp), 0o3770)
        XCTAssertEqual(try mode(spool.new), 0o3770)
        XCTAssertEqual(try mode(spool.rejected), 0o750)
        // A second start finds everything in place.
        XCTAssertNoThrow(try spool.prepare())
    }

    func testPrepareRefusesSymlinkOrFileRoot() throws {
        let target = base.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let link = base.appendingPathComponent("linked")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        XCTAssertThrowsError(try Spool(root: link).prepare()) { error in
            XCTAssertTrue("\(error)".contains("symbolic link"), "\(error)")
        }
        let file = base.appendingPathComponent("plain")
        try Data().write(to: file)
        XCTAssertThrowsError(try Spool(root: file).prepare()) { error in
            XCTAssertTrue("\(error)".contains("not a directory"), "\(error)")
        }
        // Nothing was created inside the symlink's target.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target.path), [])
    }

    func testEnqueueIsListedAndReadBack() throws {
        let name = try spool.enqueue(Data(#"{"id":"1"}"#.utf8))
        XCTAssertNotNil(name.range(of: #"^\d+\.\d{6}P\d+R[0-9a-f]+\.json$"#, options: .regularExpression), name)
        XCTAssertEqual(try spool.listNew(), [name])
        XCTAssertEqual(try spool.read(name, maxBytes: 1000), Data(#"{"id":"1"}"#.utf8))
        XCTAssertEqual(try mode(spool.new.appendingPathComponent(name)), 0o640)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.tmp.path), [])
        let second = try spool.enqueue(Data("x".utf8))
        XCTAssertNotEqual(name, second)
    }

    func testListNewSkipsDotfilesAndSortsByArrival() throws {
        let now = Date()
        try write("b", to: "b.json")
        try write("a", to: "a.json")
        try write("c", to: "c.json")
        try write("hidden", to: ".partial.json")
        try setModified("c.json", now.addingTimeInterval(-60))
        try setModified("a.json", now.addingTimeInterval(-10))
        try setModified("b.json", now.addingTimeInterval(-10))
        XCTAssertEqual(try spool.listNew(), ["c.json", "a.json", "b.json"])
    }

    func testReadRefusesSymlink() throws {
        let secret = base.appendingPathComponent("secret")
        try Data("top secret".utf8).write(to: secret)
        try FileManager.default.createSymbolicLink(at: spool.new.appendingPathComponent("link.json"),
                                                   withDestinationURL: secret)
        XCTAssertThrowsError(try spool.read("link.json", maxBytes: 1000)) { error in
            guard case SpoolReadError.unacceptable(let name, let reason) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(name, "link.json")
            XCTAssertTrue(reason.contains("symbolic link"), reason)
        }
    }

    func testReadRefusesFIFOWithoutBlocking() throws {
        XCTAssertEqual(mkfifo(spool.new.appendingPathComponent("pipe.json").path, 0o600), 0)
        XCTAssertThrowsError(try spool.read("pipe.json", maxBytes: 1000)) { error in
            guard case SpoolReadError.unacceptable(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("FIFO"), reason)
        }
    }

    func testReadRefusesOversizeFileSayingSizeAndCap() throws {
        try write(String(repeating: "x", count: 5000), to: "big.json")
        XCTAssertThrowsError(try spool.read("big.json", maxBytes: 100)) { error in
            guard case SpoolReadError.unacceptable(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("5000 bytes"), reason)
            XCTAssertTrue(reason.contains("100 bytes"), reason)
        }
        XCTAssertEqual(try spool.read("big.json", maxBytes: 5000).count, 5000)
    }

    func testReadOfVanishedFileIsGone() throws {
        XCTAssertThrowsError(try spool.read("vanished.json", maxBytes: 100)) { error in
            XCTAssertEqual(error as? SpoolReadError, .gone(name: "vanished.json"))
        }
        XCTAssertThrowsError(try spool.read("../escape", maxBytes: 100)) { error in
            guard case SpoolReadError.unacceptable = error else { return XCTFail("\(error)") }
        }
    }

    func testRejectMovesFileAndWritesReason() throws {
        try write("not json", to: "bad.json")
        let at = Date(timeIntervalSince1970: 1_795_000_000)
        let rejectedName = try spool.reject("bad.json", reason: "event[0]: not valid JSON\nat byte 1", now: at)
        XCTAssertEqual(rejectedName, "bad.json")
        XCTAssertEqual(try spool.listNew(), [])
        XCTAssertEqual(try String(contentsOf: spool.rejected.appendingPathComponent("bad.json"), encoding: .utf8),
                       "not json")
        let reason = try String(contentsOf: spool.rejected.appendingPathComponent("bad.json.reason"), encoding: .utf8)
        XCTAssertEqual(reason, "event[0]: not valid JSON at byte 1\nfile: bad.json\nrejected-at: 2026-11-18T11:06:40Z\n")
        // No temporary leftovers beside them.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.rejected.path).sorted(),
                       ["bad.json", "bad.json.reason"])
    }

    func testRejectNeverOverwritesAnEarlierRejectedFile() throws {
        try write("first", to: "same.json")
        try spool.reject("same.json", reason: "first reason")
        try write("second", to: "same.json")
        let name = try spool.reject("same.json", reason: "second reason")
        XCTAssertEqual(name, "same.json.1")
        let folder = spool.rejected
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("same.json"), encoding: .utf8), "first")
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("same.json.1"), encoding: .utf8), "second")
        let reason = try String(contentsOf: folder.appendingPathComponent("same.json.1.reason"), encoding: .utf8)
        XCTAssertTrue(reason.hasPrefix("second reason\nfile: same.json\n"), reason)
        XCTAssertTrue(try String(contentsOf: folder.appendingPathComponent("same.json.reason"), encoding: .utf8)
            .hasPrefix("first reason\n"))
    }

    func testRejectMovesSymlinkItselfNotItsTarget() throws {
        let secret = base.appendingPathComponent("secret")
        try Data("top secret".utf8).write(to: secret)
        try FileManager.default.createSymbolicLink(at: spool.new.appendingPathComponent("link.json"),
                                                   withDestinationURL: secret)
        try spool.reject("link.json", reason: "the file is a symbolic link")
        let moved = spool.rejected.appendingPathComponent("link.json").path
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: moved), secret.path)
        XCTAssertEqual(try String(contentsOf: secret, encoding: .utf8), "top secret")
        XCTAssertEqual(try spool.listNew(), [])
    }

    func testRemoveDeletesAndToleratesMissingFile() throws {
        let name = try spool.enqueue(Data("{}".utf8))
        try spool.remove(name)
        XCTAssertEqual(try spool.listNew(), [])
        XCTAssertNoThrow(try spool.remove(name))
    }

    func testCleanTmpRemovesOnlyOldLeftovers() throws {
        let now = Date()
        try write("old", to: "old.json", in: spool.tmp)
        try write("fresh", to: "fresh.json", in: spool.tmp)
        try setModified("old.json", now.addingTimeInterval(-7200), in: spool.tmp)
        XCTAssertEqual(try spool.cleanTmp(olderThan: 3600, now: now), 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.tmp.path), ["fresh.json"])
    }
}
