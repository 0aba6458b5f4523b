import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The spool on a bad day, against the built binary: bytes that are not UTF-8 (in a file
/// and in a name), files of the wrong kind, folders producers could reach, a folder
/// swapped for a link into the state, and `new/` moved or deleted while herold serves.
final class SpoolSafetyTests: SiteTestCase {
    private func spoolRoot(_ site: TestSite) -> URL { site.root.appendingPathComponent("spool") }

    private func scratch(_ name: String) throws -> URL {
        let url = try makeTemporaryDirectory(name)
        cleanup.append { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A path of raw bytes (a name Swift's String cannot hold) as a C string.
    private func cPath(_ folder: URL, _ name: [UInt8]) -> [CChar] {
        (Array(folder.path.utf8) + [0x2F] + name + [0]).map { CChar(bitPattern: $0) }
    }

    /// "Kraków" as an old Polish Windows program writes it (Windows-1250).
    private static func windows1250Event(id: String) -> (bytes: [UInt8], offset: Int) {
        let head = Array("""
            {"specversion":"1.0","id":"\(id)","source":"https://rops.example.org/konkursy",
             "type":"laureates.announced","data":{"contest":"Przeciw przemocy","edition":"X",
             "laureates":[{"name":"Gmina Miejska Krak
            """.utf8)
        return (head + [0xF3, 0x77] + Array(#""}]}}"#.utf8), head.count)
    }

    /// Writes `bytes` under the raw name `name` in tmp/ and renames it into new/, as a
    /// producer does; `make` may create something else than a file (a FIFO, a link).
    private func dropRaw(_ site: TestSite, name: [UInt8], bytes: [UInt8] = [],
                         make: ((UnsafePointer<CChar>) -> Int32)? = nil) throws {
        let from = cPath(site.spoolTmp, name), to = cPath(site.spoolNew, name)
        if let make {
            guard make(from) == 0 else { throw HarnessError("make: errno \(errno)") }
        } else {
            let fd = open(from, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw HarnessError("open: errno \(errno)") }
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        guard rename(from, to) == 0 else { throw HarnessError("rename: errno \(errno)") }
    }

    /// A site with its sinks and `herold serve` running on it (all stopped by teardown).
    private func servingSite(_ name: String) throws -> (site: TestSite, smtp: SinkServer, daemon: BackgroundProcess) {
        let (site, smtp, http) = try makeSite(name)
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { withExtendedLifetime((http, notify)) { daemon.stop() } }
        return (site, smtp, daemon)
    }

    private func reasonLine(_ site: TestSite, _ name: String) throws -> String {
        let text = try String(contentsOf: site.rejected.appendingPathComponent(name + ".reason"), encoding: .utf8)
        return String(text.split(separator: "\n").first ?? "")
    }

    func testBytesThatAreNotUTF8AndFilesOfTheWrongKindAreRejectedWithReasonsWhileAGoodEventIsDelivered() throws {
        let (site, smtp, daemon) = try servingSite("spool-bad-bytes")

        let (latin, offset) = Self.windows1250Event(id: "cp1250")
        try dropRaw(site, name: Array("cp1250.json".utf8), bytes: latin)
        // "łódź.json" named in Windows-1250, with a valid event inside.
        try dropRaw(site, name: [0xB3, 0xF3, 0x64, 0x9F] + Array(".json".utf8),
                    bytes: Array(TestSite.laureatesEvent(id: "zla-nazwa").utf8))
        try dropRaw(site, name: Array("pipe.json".utf8)) { mkfifo($0, 0o640) }
        try dropRaw(site, name: Array("link.json".utf8)) { symlink("/etc/passwd", $0) }
        try site.drop(TestSite.laureatesEvent(id: "dobry"), as: "dobry.json")

        XCTAssertTrue(eventually { smtp.records().count == 2 }, daemon.output)
        XCTAssertTrue(eventually { site.newFiles().isEmpty }, "left in new/: \(site.newFiles())\n\(daemon.output)")
        let rejected = try FileManager.default.contentsOfDirectory(atPath: site.rejected.path).sorted()
        XCTAssertEqual(rejected, ["%B3%F3d%9F.json", "%B3%F3d%9F.json.reason", "cp1250.json", "cp1250.json.reason",
                                  "link.json", "link.json.reason", "pipe.json", "pipe.json.reason"])
        XCTAssertEqual(try reasonLine(site, "cp1250.json"), """
            file: is not UTF-8: byte 0xF3 at offset \(offset), line 3 \
            (Windows-1250 or ISO-8859-2 "ó"? save the file as UTF-8)
            """)
        XCTAssertEqual(try reasonLine(site, "%B3%F3d%9F.json"), """
            the file name is not UTF-8: byte 0xB3 at offset 0 (Windows-1250 or ISO-8859-2 "ł"? name files in \
            UTF-8); its bytes: B3 F3 64 9F 2E 6A 73 6F 6E
            """)
        XCTAssertTrue(try reasonLine(site, "pipe.json").contains("FIFO"))
        XCTAssertTrue(try reasonLine(site, "link.json").contains("symbolic link"))
        // Kept byte for byte and as what they were.
        XCTAssertEqual(FileManager.default.contents(atPath: site.rejected.appendingPathComponent("cp1250.json").path),
                       Data(latin))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(
            atPath: site.rejected.appendingPathComponent("link.json").path), "/etc/passwd")
        XCTAssertTrue(daemon.waitForOutput(containing: "spool.file=%B3%F3d%9F.json", timeout: 5), daemon.output)
        XCTAssertEqual(smtp.records().count, 2, "only the good event was delivered")

        // The producer's own tool says the same before anything reaches the spool.
        let file = site.root.appendingPathComponent("cp1250.json")
        try Data(latin).write(to: file)
        let enqueue = try runHerold(["enqueue", "--config", site.configPath, file.path])
        XCTAssertEqual(enqueue.status, 65, enqueue.stderr)
        XCTAssertTrue(enqueue.stderr.contains("not UTF-8: byte 0xF3 at offset \(offset)"), enqueue.stderr)
    }

    /// A producer is not the spool's owner: `herold enqueue` run by another user in the
    /// spool's group drops its event (herold's own start checks would refuse it). As root
    /// the test becomes user 65534 in the spool's group; otherwise it runs as itself.
    func testAProducerInTheSpoolsGroupEnqueuesIntoASpoolItDoesNotOwn() throws {
        let (site, smtp, daemon) = try servingSite("spool-producer")
        let event = site.root.appendingPathComponent("od-producenta.json")
        try TestSite.laureatesEvent(id: "od-producenta").write(to: event, atomically: true, encoding: .utf8)
        var command = [heroldBinary.path, "enqueue", "--config", site.configPath, event.path]
        if geteuid() == 0 {
            let attributes = try FileManager.default.attributesOfItem(atPath: spoolRoot(site).path)
            let group = try XCTUnwrap(attributes[.groupOwnerAccountID] as? NSNumber).intValue
            XCTAssertEqual(chmod(site.root.path, 0o755), 0)
            command = ["/usr/bin/setpriv", "--reuid=65534", "--regid=\(group)", "--clear-groups"] + command
        }
        let producer = try BackgroundProcess(executable: URL(fileURLWithPath: command[0]),
                                             arguments: Array(command.dropFirst()))
        XCTAssertEqual(producer.waitForExit(), 0, producer.output)
        XCTAssertTrue(eventually { smtp.records().count == 2 }, "\(producer.output)\n\(daemon.output)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: site.rejected.path), [])
    }

    func testStartRefusesASpoolRootProducersCouldWriteNamingTheFix() throws {
        let (site, _, _) = try makeSite("spool-modes")
        let root = spoolRoot(site)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        XCTAssertEqual(chmod(root.path, 0o2770), 0)
        let daemon = try BackgroundProcess(executable: heroldBinary, arguments: ["serve", "--config", site.configPath])
        cleanup.append { daemon.stop() }
        XCTAssertEqual(daemon.waitForExit(timeout: 20), 74, daemon.output)
        XCTAssertTrue(daemon.output.contains("spool folder \(root.path) is writable by its group"), daemon.output)
        XCTAssertTrue(daemon.output.contains("mode 2770"), daemon.output)
        XCTAssertTrue(daemon.output.contains("chmod 0750 \(root.path)"), daemon.output)
    }

    /// A producer that could swap `rejected/` for a link into the state folder while herold
    /// runs gets nothing written there; the next start refuses the link.
    func testRejectedSwappedForALinkIntoTheStateGetsNothingWrittenThere() throws {
        let (site, _, daemon) = try servingSite("spool-swap")
        let state = site.root.appendingPathComponent("state")
        let moved = spoolRoot(site).appendingPathComponent("rejected.moved")
        XCTAssertEqual(rename(site.rejected.path, moved.path), 0)
        try FileManager.default.createSymbolicLink(at: site.rejected, withDestinationURL: state)
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: state.path))

        try site.drop("{ to nie jest JSON", as: "zly.json")
        XCTAssertTrue(daemon.waitForOutput(containing: "writes nothing there"), daemon.output)
        XCTAssertTrue(daemon.output.contains("\(site.rejected.path) is now a symbolic link"), daemon.output)
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: state.path))
        XCTAssertEqual(after.subtracting(before).filter { !$0.hasPrefix("journal.sqlite") }, [],
                       "herold wrote into the state folder: \(after)")
        XCTAssertFalse(after.contains { $0.contains("zly") || $0.hasSuffix(".reason") || $0.hasSuffix(".tmp") }, "\(after)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: moved.path), [])
        XCTAssertEqual(site.newFiles(), ["zly.json"], "the file waits in new/")

        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)
        let again = try BackgroundProcess(executable: heroldBinary, arguments: ["serve", "--config", site.configPath])
        cleanup.append { again.stop() }
        XCTAssertEqual(again.waitForExit(timeout: 20), 74, again.output)
        XCTAssertTrue(again.output.contains("spool folder \(site.rejected.path) is a symbolic link"), again.output)
    }

    /// new/ moved away, then deleted, while herold serves: each time herold logs a critical
    /// line naming the folder, says so to systemd and exits 74 within seconds (systemd's
    /// Restart=on-failure starts it again, and the start creates new/ afresh). A link in its
    /// place is refused at start.
    func testLosingNewWhileServingStopsHeroldWith74AndTheNextStartRecreatesIt() throws {
        let (site, smtp, http) = try makeSite("spool-lost")
        defer { withExtendedLifetime(http) {} }
        let root = spoolRoot(site)
        let losses: [(String, () -> Int32)] = [
            ("was moved away", { rename(site.spoolNew.path, root.appendingPathComponent("new.away").path) }),
            ("was deleted", { rmdir(site.spoolNew.path) }),
        ]
        for (index, (step, lose)) in losses.enumerated() {
            let notify = try NotifySocket(directory: try scratch("spool-lost-\(index)"))
            let daemon = try site.startDaemon(notify: notify)
            cleanup.append { daemon.stop() }
            try site.drop(TestSite.laureatesEvent(id: "przed-\(index)"), as: "przed.json")
            XCTAssertTrue(eventually { site.newFiles().isEmpty }, daemon.output)
            XCTAssertTrue(eventually { smtp.records().count == 2 * (index + 1) }, "delivered before new/ goes: \(daemon.output)")

            let start = Date()
            XCTAssertEqual(lose(), 0, step)
            XCTAssertEqual(daemon.waitForExit(timeout: 20), 74, "\(step): \(daemon.output)")
            XCTAssertLessThan(Date().timeIntervalSince(start), 10, step)
            XCTAssertTrue(daemon.output.contains("level=critical msg=\"spool folder lost"), daemon.output)
            XCTAssertTrue(daemon.output.contains("spool folder \(site.spoolNew.path) \(step)"), daemon.output)
            XCTAssertTrue(notify.waitFor("STATUS=stopping: spool folder \(site.spoolNew.path)", timeout: 5),
                          notify.messages.joined(separator: " | "))
        }
        XCTAssertTrue(eventually { smtp.records().count == 4 }, "both events were delivered before")

        let state = site.root.appendingPathComponent("state")
        try FileManager.default.createSymbolicLink(at: site.spoolNew, withDestinationURL: state)
        let refused = try BackgroundProcess(executable: heroldBinary, arguments: ["serve", "--config", site.configPath])
        cleanup.append { refused.stop() }
        XCTAssertEqual(refused.waitForExit(timeout: 20), 74, refused.output)
        XCTAssertTrue(refused.output.contains("spool folder \(site.spoolNew.path) is a symbolic link"), refused.output)
        XCTAssertEqual(unlink(site.spoolNew.path), 0)

        // Restarted, herold creates new/ again and delivers.
        let notify = try NotifySocket(directory: try scratch("spool-lost-again"))
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.drop(TestSite.laureatesEvent(id: "po"), as: "po.json")
        XCTAssertTrue(eventually { smtp.records().count == 6 }, daemon.output)
    }
}
