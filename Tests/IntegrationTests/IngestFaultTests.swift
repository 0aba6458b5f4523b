import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The ingest loop on a bad day, with the built binary and real SMTP and HTTP sinks: a
/// poison file, a file herold cannot read, a busy journal and a full state disk each end in
/// their documented state, without a storm of log lines, and the good files next to them
/// are delivered.
final class IngestFaultTests: SiteTestCase {

    /// A notify socket in a folder of its own under the site (so a test can have two).
    private func notifySocket(_ site: TestSite, _ name: String) throws -> NotifySocket {
        let directory = site.root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try NotifySocket(directory: directory)
    }

    /// Drops `body` as `new/NAME` with `mode` already set, as a producer's `mkstemp` file is.
    private func drop(_ body: String, as name: String, mode: mode_t, in site: TestSite) throws {
        let tmp = site.spoolTmp.appendingPathComponent(name)
        try body.write(to: tmp, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(tmp.path, mode), 0)
        XCTAssertEqual(rename(tmp.path, site.spoolNew.appendingPathComponent(name).path), 0)
    }

    func testPoisonFilesAreRejectedAfterThreeTriesWhileGoodFilesNextToThemAreDelivered() throws {
        let (site, smtp, http) = try makeSite("poison")
        // `status` creates the journal; then a trigger makes it refuse some events for good,
        // as a constraint violation would.
        let status = try runHerold(["status", "--config", site.configPath])
        XCTAssertEqual(status.status, 0, status.stderr)
        try site.sql("""
            CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.id LIKE 'poison-%'
            BEGIN SELECT RAISE(ABORT, 'poisoned'); END;
            """)
        let poison = (1...4).map { laureates("poison-\($0)") }
        for file in poison { try site.drop(file.body, as: file.name) }
        let daemon = try site.startDaemon(notify: try notifySocket(site, "n"))
        cleanup.append { daemon.stop() }
        let good = ["good-1", "good-2"].map(laureates)
        for file in good { try site.drop(file.body, as: file.name) }

        XCTAssertTrue(eventually(timeout: 30) { smtp.records().count >= 4 && http.records().count >= 2 },
                      "good files next to poison ones were not delivered:\n\(daemon.output)")
        XCTAssertEqual(Set(site.newFiles()).intersection(poison.map(\.name)).count, 4,
                       "the good files went out while the poison ones still had tries left (the third is 15 s in)")

        XCTAssertTrue(eventually(timeout: 60) {
            Set(site.rejectedFiles()).isSuperset(of: poison.map(\.name))
                && logLines(daemon.output, mentioning: "spool file rejected").count == 4
        }, "poison files were not rejected: new/ \(site.newFiles())\n\(daemon.output)")
        for file in poison {
            let reason = try XCTUnwrap(site.rejectionReason(file.name), file.name)
            XCTAssertTrue(reason.contains("refused the file's events 3 times") && reason.contains("poisoned"), reason)
        }
        XCTAssertEqual(site.newFiles(), [])
        let lines = logLines(daemon.output, mentioning: "poison-")
        XCTAssertLessThanOrEqual(lines.count, 16, "a handful of lines per poison file, not a storm:\n\(lines.joined(separator: "\n"))")
        XCTAssertEqual(lines.filter { $0.contains("next_try=") }.count, 8, "two refusals logged per file, each with its next try")
        Thread.sleep(forTimeInterval: 6)
        XCTAssertEqual(logLines(daemon.output, mentioning: "poison-").count, lines.count, "nothing more about rejected files")
        XCTAssertEqual(smtp.records().count, 4)
        XCTAssertEqual(http.records().count, 2)
        XCTAssertEqual(try site.sql("SELECT COUNT(*) FROM events WHERE id LIKE 'poison-%'"), "0")
    }

    func testUnreadableFileIsRetriedWithBackoffAndIngestedOnceReadable() throws {
        let (site, smtp, _) = try makeSite("unreadable")
        let notify = try notifySocket(site, "n")
        var executable = heroldBinary
        var arguments = ["serve", "--config", site.configPath]
        let asRoot = geteuid() == 0
        if asRoot {
            // root reads any file: herold runs as nobody, so a producer's 0600 file is really
            // unreadable to it (EACCES), as under systemd.
            let chown = try runTool("/bin/chown", ["-R", "65534:65534", site.root.path])
            XCTAssertEqual(chown.status, 0, chown.stderr)
            executable = URL(fileURLWithPath: "/usr/bin/setpriv")
            arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", heroldBinary.path] + arguments
        }
        let daemon = try BackgroundProcess(executable: executable, arguments: arguments,
                                           environment: ["NOTIFY_SOCKET": notify.path])
        cleanup.append { daemon.stop() }
        guard notify.waitFor("READY=1") else { return XCTFail("herold did not start:\n\(daemon.output)") }

        let locked = laureates("zamkniety")
        try drop(locked.body, as: locked.name, mode: asRoot ? 0o600 : 0, in: site)
        let open = laureates("otwarty")
        try site.drop(open.body, as: open.name)
        XCTAssertTrue(eventually { smtp.mails(to: "rops@example.org").count == 1 },
                      "the readable file next to it was not delivered:\n\(daemon.output)")
        XCTAssertTrue(notify.waitFor("1 spool file(s) waiting in new/"), "\(notify.messages)")

        Thread.sleep(forTimeInterval: 8)
        let lines = logLines(daemon.output, mentioning: locked.name)
        XCTAssertTrue((2...3).contains(lines.count), "one line per try (at 0 s and 5 s), not a storm:\n\(daemon.output)")
        XCTAssertTrue(lines.allSatisfy { $0.contains("Permission denied") && $0.contains("next_try=") },
                      lines.joined(separator: "\n"))
        XCTAssertEqual(site.newFiles(), [locked.name])
        XCTAssertEqual(site.rejectedFiles(), [], "a file that may become readable is not rejected")

        // The producer fixes the file; the next try (backoff 10 s, then 20 s) takes it.
        if asRoot {
            XCTAssertEqual(chown(site.spoolNew.appendingPathComponent(locked.name).path, 65534, 65534), 0)
        } else {
            XCTAssertEqual(chmod(site.spoolNew.appendingPathComponent(locked.name).path, 0o644), 0)
        }
        XCTAssertTrue(eventually(timeout: 60) { smtp.mails(to: "rops@example.org").count == 2 && site.newFiles().isEmpty },
                      "the file was not taken once readable:\n\(daemon.output)")
        XCTAssertLessThanOrEqual(logLines(daemon.output, mentioning: locked.name).count, 5)
    }

    func testBusyJournalPausesIngestOnceAndTheFileIsTakenWhenTheLockGoes() throws {
        let (site, smtp, http) = try makeSite("busy")
        let daemon = try site.startDaemon(notify: try notifySocket(site, "n"))
        cleanup.append { daemon.stop() }
        // Another process holds the journal's write lock longer than herold waits (5 s).
        let release = site.root.appendingPathComponent("release")
        let holder = try BackgroundProcess(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: ["python3", "-u", "-c", """
            import os, sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute('BEGIN IMMEDIATE')
            print('LOCKED', flush=True)
            while not os.path.exists(sys.argv[2]): time.sleep(0.1)
            db.execute('COMMIT')
            print('RELEASED', flush=True)
            """, site.journalPath, release.path])
        cleanup.append { holder.stop() }
        XCTAssertTrue(holder.waitForOutput(containing: "LOCKED"), holder.output)
        let file = laureates("zajety")
        try site.drop(file.body, as: file.name)

        XCTAssertTrue(eventually(timeout: 30) { daemon.output.contains("ingest paused") }, daemon.output)
        Thread.sleep(forTimeInterval: 12)
        XCTAssertEqual(site.newFiles(), [file.name], "the file stays while the journal is busy")
        XCTAssertEqual(logLines(daemon.output, mentioning: "ingest paused").count, 1, daemon.output)

        XCTAssertTrue(FileManager.default.createFile(atPath: release.path, contents: nil))
        XCTAssertTrue(holder.waitForOutput(containing: "RELEASED"), holder.output)
        XCTAssertTrue(eventually(timeout: 30) { smtp.records().count == 2 && http.records().count == 1 && site.newFiles().isEmpty },
                      daemon.output)
        XCTAssertEqual(logLines(daemon.output, mentioning: "ingest resumed").count, 1, daemon.output)
        XCTAssertEqual(site.rejectedFiles(), [])
    }

    /// The disk fills while a webhook is in flight: its outcome is still recorded (herold
    /// frees the space it keeps in reserve), new events stay in spool/new, the log says it
    /// once, and ingest resumes by itself once space returns.
    func testFullStateDiskPausesIngestOnceKeepsRecordingDeliveriesAndResumesWhenSpaceReturns() throws {
        let (site, smtp, http) = try makeSite("diskfull", httpArguments: ["--delay", "6"])
        try FileManager.default.createDirectory(at: site.state, withIntermediateDirectories: true)
        let mount = try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=4m,mode=0750", "herold-test", site.state.path])
        guard mount.status == 0 else {
            return XCTFail("this test needs a small tmpfs as the state folder (run it as root): mount said \(mount.stderr)")
        }
        cleanup.append { _ = try? runTool("/bin/umount", [site.state.path]) }
        let notify = try notifySocket(site, "n")
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        let before = laureates("przed")
        try site.drop(before.body, as: before.name)
        XCTAssertTrue(eventually { smtp.records().count == 2 }, daemon.output)

        // The webhook is in flight (the server answers after 6 s) when the disk fills up.
        let filler = site.state.appendingPathComponent("filler")
        XCTAssertGreaterThan(try fill(filler), 0)
        let during = (1...3).map { laureates("pelny-dysk-\($0)") }
        for file in during { try site.drop(file.body, as: file.name) }
        XCTAssertTrue(eventually(timeout: 30) { daemon.output.contains("ingest paused") }, daemon.output)
        XCTAssertTrue(try eventually(timeout: 30) {
            try site.sql("SELECT state FROM deliveries WHERE channel = 'webhook'") == "sent"
        }, "the outcome of a journaled delivery is recorded on the full disk:\n\(daemon.output)")
        Thread.sleep(forTimeInterval: 8)
        XCTAssertEqual(Set(site.newFiles()), Set(during.map(\.name)), "spool files stay while the disk is full")
        XCTAssertEqual(logLines(daemon.output, mentioning: "ingest paused").count, 1, "said once, not per file or try")
        XCTAssertEqual(site.rejectedFiles(), [])
        XCTAssertEqual(smtp.records().count, 2)
        XCTAssertEqual(http.records().count, 1)
        XCTAssertTrue(notify.waitFor("ingest paused since"), "systemctl status says why: \(notify.messages)")

        XCTAssertEqual(unlink(filler.path), 0)
        XCTAssertTrue(eventually(timeout: 60) {
            site.newFiles().isEmpty && smtp.records().count == 8 && http.records().count == 4
        }, "not resumed once space returned:\n\(daemon.output)")
        XCTAssertEqual(logLines(daemon.output, mentioning: "ingest resumed").count, 1, daemon.output)
        XCTAssertEqual(try site.sql("PRAGMA integrity_check"), "ok")
        for file in during + [before] { XCTAssertTrue(try site.journalHolds(String(file.name.dropLast(5))), file.name) }
        XCTAssertTrue(try eventually(timeout: 30) {
            try site.sql("SELECT COUNT(*) FROM deliveries WHERE state = 'sent'") == "12"
        }, "every delivery sent and recorded:\n\(daemon.output)")
        XCTAssertLessThan(daemon.output.split(separator: "\n").count, 60, "a bounded log:\n\(daemon.output)")
    }

    /// Writes zeros to `url` until the filesystem is full; returns the bytes written.
    private func fill(_ url: URL) throws -> Int {
        let fd = open(url.path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HarnessError("open \(url.path): errno \(errno)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var total = 0
        while true {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            total += n
        }
        XCTAssertEqual(errno, ENOSPC, "the filler stops on a full disk")
        return total
    }
}
