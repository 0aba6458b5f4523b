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

    func testRemoveRejectedGoesByTheReasonsTimeAndTakesBoth() throws {
        let now = Date()
        try write("{\"old\": 1}", to: "old.json")
        try write("{\"fresh\": 1}", to: "fresh.json")
        // The producer wrote fresh.json long ago, but it was rejected only now: it stays.
        try setModified("fresh.json", now.addingTimeInterval(-90 * 86400))
        try spool.reject("old.json", reason: "not JSON", now: now)
        try spool.reject("fresh.json", reason: "not JSON", now: now)
        try setModified("old.json.reason", now.addingTimeInterval(-31 * 86400), in: spool.rejected)
        XCTAssertEqual(try spool.removeRejected(olderThan: 30 * 86400, now: now), 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.rejected.path).sorted(),
                       ["fresh.json", "fresh.json.reason"])
    }

    // MARK: names that are not UTF-8

    /// Creates `new/<bytes>` (a name Swift's String cannot hold) with `contents`.
    private func createRawName(_ bytes: [UInt8], contents: String) throws {
        let path = Array(spool.new.path.utf8) + [0x2F] + bytes
        let fd = (path.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer {
            open($0.baseAddress!, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o640)
        }
        guard fd >= 0 else { throw SpoolError("open: errno \(errno)") }
        _ = contents.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }

    func testNameThatIsNotUTF8IsListedRefusedAndRejectedUnderAPrintableName() throws {
        // "żół.json" as Windows-1250 bytes.
        try createRawName([0xBF, 0xF3, 0xB3] + Array(".json".utf8), contents: "{}")
        let listed = try spool.listNew()
        XCTAssertEqual(listed, ["%BF%F3%B3.json"])
        XCTAssertThrowsError(try spool.read(listed[0], maxBytes: 100)) { error in
            guard case SpoolReadError.unacceptable(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(reason, """
                the file name is not UTF-8: byte 0xBF at offset 0 (Windows-1250 or ISO-8859-2 "ż"? name files \
                in UTF-8); its bytes: BF F3 B3 2E 6A 73 6F 6E
                """)
        }
        let moved = try spool.reject(listed[0], reason: "the file name is not UTF-8",
                                     now: Date(timeIntervalSince1970: 1_795_000_000))
        XCTAssertEqual(moved, "%BF%F3%B3.json")
        XCTAssertEqual(try spool.listNew(), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.new.path), [])
        XCTAssertEqual(try String(contentsOf: spool.rejected.appendingPathComponent(moved), encoding: .utf8), "{}")
        XCTAssertEqual(try String(contentsOf: spool.rejected.appendingPathComponent(moved + ".reason"), encoding: .utf8),
                       "the file name is not UTF-8\nfile: %BF%F3%B3.json\nrejected-at: 2026-11-18T11:06:40Z\n")
    }

    func testPercentAndControlBytesInNamesAreEscapedAndStillLeadToTheFile() throws {
        try write("procent", to: "50%.json")
        try write("linia", to: "a\nb.json")
        XCTAssertEqual(Set(try spool.listNew()), ["50%25.json", "a%0Ab.json"])
        XCTAssertEqual(try spool.read("50%25.json", maxBytes: 100), Data("procent".utf8))
        XCTAssertEqual(try spool.reject("a%0Ab.json", reason: "x"), "a%0Ab.json")
        try spool.remove("50%25.json")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.new.path), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.rejected.path).sorted(),
                       ["a%0Ab.json", "a%0Ab.json.reason"])
    }

    func testSpoolNameTextLeadsBackToTheSameBytes() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 1...12, using: &rng)).map { _ in
                UInt8.random(in: 1...255, using: &rng)
            }
            let text = SpoolName(bytes: bytes).text
            XCTAssertEqual(SpoolName(text: text).bytes, bytes, text)
            XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, text)
        }
        XCTAssertEqual(SpoolName(bytes: Array("zażółć.json".utf8)).text, "zażółć.json")
        XCTAssertEqual(SpoolName(text: "100%.json").bytes, Array("100%.json".utf8))
    }

    // MARK: modes, owners, swapped folders

    private func expectPrepareRefused(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Spool(root: spool.root).prepare(), file: file, line: line) { error in
            for fragment in fragments {
                XCTAssertTrue("\(error)".contains(fragment), "\(fragment) in: \(error)", file: file, line: line)
            }
        }
    }

    func testPrepareRefusesARootOrRejectedFolderProducersCouldWrite() throws {
        XCTAssertEqual(chmod(spool.root.path, 0o2770), 0)
        expectPrepareRefused([spool.root.path, "writable by its group", "mode 2770", "chmod 0750 \(spool.root.path)"])
        XCTAssertEqual(chmod(spool.root.path, 0o757), 0)
        expectPrepareRefused(["writable by others", "mode 0757"])
        XCTAssertEqual(chmod(spool.root.path, 0o750), 0)
        XCTAssertEqual(chmod(spool.rejected.path, 0o2770), 0)
        expectPrepareRefused([spool.rejected.path, "writable by its group", "chmod 0750 \(spool.rejected.path)"])
        XCTAssertEqual(chmod(spool.rejected.path, 0o750), 0)
        XCTAssertNoThrow(try Spool(root: spool.root).prepare())
    }

    func testPrepareRefusesAGroupWritableDropFolderWithoutTheStickyBit() throws {
        XCTAssertEqual(chmod(spool.new.path, 0o2770), 0)
        expectPrepareRefused([spool.new.path, "without the sticky bit", "mode 2770", "chmod 3770"])
        XCTAssertEqual(chmod(spool.new.path, 0o1730), 0)
        XCTAssertNoThrow(try Spool(root: spool.root).prepare())
        XCTAssertEqual(chmod(spool.new.path, 0o700), 0)
        XCTAssertNoThrow(try Spool(root: spool.root).prepare(), "herold alone may write: fine")
    }

    func testPrepareRefusesAFolderNotOwnedByTheRunningUser() throws {
        if geteuid() == 0 {
            XCTAssertEqual(chown(spool.rejected.path, 65534, 65534), 0)
            expectPrepareRefused([spool.rejected.path, "is not owned by", "uid 65534", "chown root"])
        } else {
            // Not root: a folder owned by root stands in; nothing is created in it.
            XCTAssertThrowsError(try Spool(root: URL(fileURLWithPath: "/usr")).prepare()) { error in
                XCTAssertTrue("\(error)".contains("/usr is not owned by"), "\(error)")
            }
        }
    }

    func testPrepareRefusesRejectedSwappedForASymlinkAndCreatesNothingBehindIt() throws {
        let state = base.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        XCTAssertEqual(rename(spool.rejected.path, spool.root.appendingPathComponent("old").path), 0)
        try FileManager.default.createSymbolicLink(at: spool.rejected, withDestinationURL: state)
        expectPrepareRefused([spool.rejected.path, "symbolic link"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: state.path), [])
    }

    /// A producer that could swap rejected/ (or new/) for a link into the state folder
    /// after herold started gets nothing written there: herold checks again before
    /// each rejection and refuses.
    func testRejectWritesNothingThroughAFolderSwappedAfterPrepare() throws {
        let state = base.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        try Data("journal".utf8).write(to: state.appendingPathComponent("journal.sqlite"))
        try write("not json", to: "bad.json")
        let old = spool.root.appendingPathComponent("rejected.old")
        XCTAssertEqual(rename(spool.rejected.path, old.path), 0)
        try FileManager.default.createSymbolicLink(at: spool.rejected, withDestinationURL: state)
        XCTAssertThrowsError(try spool.reject("bad.json", reason: "x")) { error in
            XCTAssertTrue("\(error)".contains("\(spool.rejected.path) is now a symbolic link"), "\(error)")
            XCTAssertTrue("\(error)".contains("writes nothing there"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: state.path), ["journal.sqlite"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: old.path), [])
        XCTAssertEqual(try spool.listNew(), ["bad.json"])

        // A real folder in its place is refused just the same (it is not the one checked).
        XCTAssertEqual(unlink(spool.rejected.path), 0)
        XCTAssertEqual(mkdir(spool.rejected.path, 0o750), 0)
        XCTAssertThrowsError(try spool.reject("bad.json", reason: "x")) { error in
            XCTAssertTrue("\(error)".contains("not the folder herold opened"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.rejected.path), [])

        // Put back, it works again.
        XCTAssertEqual(rmdir(spool.rejected.path), 0)
        XCTAssertEqual(rename(old.path, spool.rejected.path), 0)
        XCTAssertEqual(try spool.reject("bad.json", reason: "x"), "bad.json")
    }

    func testRejectRefusesWhenNewWasSwappedForASymlink() throws {
        let state = base.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        try write("not json", to: "bad.json")
        XCTAssertEqual(rename(spool.new.path, spool.root.appendingPathComponent("new.old").path), 0)
        try FileManager.default.createSymbolicLink(at: spool.new, withDestinationURL: state)
        XCTAssertThrowsError(try spool.reject("bad.json", reason: "x")) { error in
            XCTAssertTrue("\(error)".contains("\(spool.new.path) is now a symbolic link"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: state.path), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: spool.rejected.path), [])
    }

    func testFolderModesMatchTheTmpfilesRules() throws {
        let rules = try String(contentsOf: URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("systemd/herold.tmpfiles"), encoding: .utf8)
        var modes: [String: mode_t] = [:]
        for line in rules.split(separator: "\n") where line.hasPrefix("d ") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            modes[String(fields[1])] = mode_t(fields[2], radix: 8)
        }
        XCTAssertEqual(modes, ["/var/spool/herold": 0o750, "/var/spool/herold/tmp": 0o3770,
                               "/var/spool/herold/new": 0o3770, "/var/spool/herold/rejected": 0o750])
        // Folders made as the rules say (here by hand) are accepted as they are.
        let other = Spool(root: base.appendingPathComponent("tmpfiles/herold"))
        try FileManager.default.createDirectory(at: other.root, withIntermediateDirectories: true)
        for (path, mode) in modes {
            let url = other.root.appendingPathComponent(String(path.dropFirst("/var/spool/herold".count)))
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            XCTAssertEqual(chmod(url.path, mode), 0)
        }
        XCTAssertNoThrow(try other.prepare())
        XCTAssertEqual(try mode(other.new), 0o3770)
    }

    func testFIFOIsRejectedAsItIsWithoutBlocking() throws {
        XCTAssertEqual(mkfifo(spool.new.appendingPathComponent("pipe.json").path, 0o600), 0)
        XCTAssertEqual(mkfifo(spool.tmp.appendingPathComponent("stale-pipe").path, 0o600), 0)
        XCTAssertThrowsError(try spool.read("pipe.json", maxBytes: 100))
        XCTAssertEqual(try spool.reject("pipe.json", reason: "the file is a FIFO"), "pipe.json")
        let moved = try Syscall.lstat(spool.rejected.appendingPathComponent("pipe.json").path)
        XCTAssertEqual(moved.st_mode & S_IFMT, S_IFIFO)
        XCTAssertEqual(try spool.cleanTmp(olderThan: -1), 1)
    }
}
