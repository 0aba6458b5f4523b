import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// One daemon per state folder, and a journal nobody else can read.
final class StateSafetyTests: SiteTestCase {
    func testSecondServeOnTheSameStateIsRefusedAndTheFirstGoesOn() throws {
        let (site, smtp, http) = try makeSite("two-daemons")
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }

        let second = try BackgroundProcess(executable: heroldBinary, arguments: ["serve", "--config", site.configPath])
        cleanup.append { second.stop() }
        XCTAssertEqual(second.waitForExit(timeout: 15), 75, "EX_TEMPFAIL: try again when the other one stops\n\(second.output)")
        XCTAssertTrue(second.waitForOutput(containing: "pid \(daemon.process.processIdentifier)", timeout: 5),
                      "the error names the process holding the state folder:\n\(second.output)")
        XCTAssertTrue(second.output.contains("already serving this state folder"), second.output)

        // The first one is undisturbed: an event is delivered once.
        try site.drop(TestSite.laureatesEvent(id: "po-odmowie"), as: "po-odmowie.json")
        XCTAssertTrue(eventually { smtp.records().count == 2 && http.records().count == 1 }, daemon.output)

        // Once the first stops, a new one may start on the same folder.
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)
        let next = try site.startDaemon(notify: try NotifySocket(directory: try makeTemporaryDirectory("two-daemons-2")))
        cleanup.append { next.stop() }
    }

    func testJournalIsPrivateToHerold() throws {
        let (site, smtp, http) = try makeSite("private-journal")
        defer { withExtendedLifetime(http) {} }
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        try site.drop(TestSite.laureatesEvent(id: "prywatne"), as: "prywatne.json")
        XCTAssertTrue(eventually { smtp.records().count == 2 }, daemon.output)
        let state = site.root.appendingPathComponent("state")
        for name in ["journal.sqlite", "journal.sqlite-wal", "herold.lock"] {
            var info = stat()
            XCTAssertEqual(stat(state.appendingPathComponent(name).path, &info), 0, name)
            XCTAssertEqual(info.st_mode & 0o077, 0, "\(name) has mode \(String(info.st_mode & 0o777, radix: 8)): producers in group herold could read it")
        }
        var folder = stat()
        XCTAssertEqual(stat(state.path, &folder), 0)
        XCTAssertEqual(folder.st_mode & 0o077, 0, "state folder mode \(String(folder.st_mode & 0o777, radix: 8))")

        // Everything sent: nothing is pending, and status says so.
        XCTAssertTrue(eventually {
            let text = (try? runHerold(["status", "--config", site.configPath]).stdout) ?? ""
            return text.contains("sent 3") && text.contains("oldest pending: none") && text.contains("next attempt:   none")
        }, (try? runHerold(["status", "--config", site.configPath]).stdout) ?? "")
        let json = try runHerold(["status", "--config", site.configPath, "--json"]).stdout
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        XCTAssertNil(report["oldest_pending"], json)
    }
}

/// The journal refusing a write for a while, and the systemd watchdog during long queues.
final class JournalTroubleTests: SiteTestCase {
    /// Holds the journal's write lock from another process for `seconds` (sqlite3 in Python).
    private func holdWriteLock(_ journal: URL, seconds: Double) throws -> BackgroundProcess {
        let script = """
        import sqlite3, sys, time
        db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
        db.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
        db.execute("COMMIT")
        print("released", flush=True)
        """
        let locker = try BackgroundProcess(executable: URL(fileURLWithPath: "/usr/bin/env"),
                                           arguments: ["python3", "-c", script, journal.path, "\(seconds)"])
        guard locker.waitForOutput(containing: "locked") else { throw HarnessError("cannot lock the journal: \(locker.output)") }
        return locker
    }

    func testOutcomeWriteRefusedByABusyJournalIsRetriedNotSentAgain() throws {
        let (site, smtp, http) = try makeSite("busy-outcome", httpArguments: ["--delay", "2"])
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        try site.drop(TestSite.laureatesEvent(id: "zajety"), as: "zajety.json")
        // The webhook's request is at the server, its answer 2 s away: lock the journal for
        // longer than two of herold's 5 s busy timeouts (the delivery loop's next claim may
        // wait first), so recording the answer fails at least once.
        XCTAssertTrue(eventually { http.records().count >= 1 }, daemon.output)
        let locker = try holdWriteLock(site.root.appendingPathComponent("state/journal.sqlite"), seconds: 14)
        cleanup.append { locker.stop() }
        XCTAssertTrue(daemon.waitForOutput(containing: "retrying until it works", timeout: 20), daemon.output)
        XCTAssertTrue(locker.waitForOutput(containing: "released", timeout: 20), locker.output)
        XCTAssertTrue(daemon.waitForOutput(containing: "recorded again after a journal failure", timeout: 15), daemon.output)

        let status = try runHerold(["status", "--config", site.configPath, "--json"])
        let counts = (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["counts"] as? [String: Int]
        XCTAssertEqual(counts?["sent"], 3, "recorded sent, not left in flight: \(status.stdout)")
        XCTAssertEqual(counts?["inflight"] ?? 0, 0, status.stdout)

        // A restart sends nothing again.
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)
        let again = try site.startDaemon(notify: try NotifySocket(directory: try makeTemporaryDirectory("busy-outcome-2")))
        cleanup.append { again.stop() }
        usleep(1_500_000)
        XCTAssertEqual(http.records().count, 1, again.output)
        XCTAssertEqual(smtp.records().count, 2, again.output)
    }

    func testWatchdogKeepsPingingThroughAQueueLongerThanOneTransfersTimeouts() throws {
        let (site, smtp, http) = try makeSite("watchdog-queue", smtpArguments: ["--data-delay", "1.2"])
        defer { withExtendedLifetime(http) {} }
        // Short timeouts: one email may take 1 + 3 s, so the watchdog's limit without progress
        // is 4 s + 5 s slack; the queue below takes about 12 s, longer than that limit: the
        // pings go on because each transfer ends within its own timeouts.
        let config = try String(contentsOfFile: site.configPath, encoding: .utf8)
            .replacingOccurrences(of: "connect_timeout: 5", with: "connect_timeout: 1")
            .replacingOccurrences(of: "timeout: 20", with: "timeout: 3")
            .replacingOccurrences(of: "timeout: 10", with: "timeout: 3")
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let notify = try NotifySocket(directory: site.root)
        let daemon = try BackgroundProcess(
            executable: heroldBinary, arguments: ["serve", "--config", site.configPath],
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"])
        cleanup.append { daemon.stop() }
        XCTAssertTrue(notify.waitFor("READY=1"), daemon.output)
        for n in 1...5 { try site.drop(TestSite.laureatesEvent(id: "kolejka-\(n)"), as: "kolejka-\(n).json") }
        // Ten emails one after another on one connection (max_connections: 1).
        XCTAssertTrue(eventually(timeout: 40) {
            _ = notify.waitFor("never-sent", timeout: 0.1)  // read the pings as they come
            return smtp.records().count == 10
        }, daemon.output)
        XCTAssertTrue(daemon.process.isRunning)
        let gaps = notify.timedMessages.filter { $0.text == "WATCHDOG=1" }.map(\.at)
        let longest = zip(gaps, gaps.dropFirst()).map { $1.timeIntervalSince($0) }.max() ?? .infinity
        XCTAssertLessThan(longest, 2.0, "WATCHDOG=1 never stopped for WatchdogSec=2s while the queue moved")
        XCTAssertGreaterThan(gaps.count, 10)
    }
}
