import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM, SIGHUP and the systemd watchdog against the built binary.
final class SignalTests: SiteTestCase {


    private func counts(_ site: TestSite) throws -> [String: Int] {
        let status = try runHerold(["status", "--config", site.configPath, "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        return report?["counts"] as? [String: Int] ?? [:]
    }

    func testSIGTERMLeavesASlowTransferInFlightAfterTheBoundAndExitsZero() throws {
        let (site, smtp, http) = try makeSite("term-bound", httpArguments: ["--delay", "8"],
                                              extraYAML: "shutdown_timeout: 2s")
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.drop(TestSite.laureatesEvent(id: "wolny"), as: "wolny.json")
        XCTAssertTrue(eventually { http.records().count == 1 && smtp.records().count == 2 }, daemon.output)

        let asked = Date()
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(timeout: 10), 0, daemon.output)
        let took = Date().timeIntervalSince(asked)
        XCTAssertGreaterThanOrEqual(took, 1.8, "it waited for the transfer up to shutdown_timeout")
        XCTAssertLessThan(took, 5, "it did not wait for the 8 s reply")
        XCTAssertTrue(daemon.waitForOutput(containing: "shutdown_timeout", timeout: 5), daemon.output)
        let after = try counts(site)
        XCTAssertEqual(after["inflight"], 1, "the webhook is still recorded, in flight: \(after)")
        XCTAssertEqual(after["sent"], 2)

        // The next start takes it up again, with the same webhook-id.
        let again = try site.startDaemon(notify: try NotifySocket(directory: try makeTemporaryDirectory("term-2")))
        cleanup.append { again.stop() }
        XCTAssertTrue(again.waitForOutput(containing: "taken up again"), again.output)
        XCTAssertTrue(eventually(timeout: 20) { http.records().count == 2 }, again.output)
        let ids = Set(http.records().compactMap { header("webhook-id", of: $0) })
        XCTAssertEqual(ids.count, 1)
    }

    func testSIGTERMExitsWithinTheBoundEvenWhileAnSMTPServerSitsOnItsReply() throws {
        let (site, smtp, http) = try makeSite("term-smtp", smtpArguments: ["--data-delay", "12"],
                                              extraYAML: "shutdown_timeout: 1s")
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.drop(TestSite.laureatesEvent(id: "wolny-serwer"), as: "wolny.json")
        XCTAssertTrue(eventually { http.records().count == 1 }, daemon.output)
        usleep(500_000)  // the first email is now waiting for the server's reply to DATA (the relay's lane is one wide)
        let asked = Date()
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(timeout: 10), 0, daemon.output)
        XCTAssertLessThan(Date().timeIntervalSince(asked), 5, daemon.output)
        let after = try counts(site)
        XCTAssertEqual(after["inflight"], 1, "the email on the wire is left in flight: \(after)")
        XCTAssertEqual(after["sent"], 1, "the webhook: \(after)")
        XCTAssertEqual(after["pending"], 1, "the second email never started; still queued: \(after)")
        XCTAssertEqual(after.values.reduce(0, +), 3)
        XCTAssertEqual(smtp.records().count, 0)
    }

    func testSIGTERMLetsAShortTransferFinishAndRecordsIt() throws {
        let (site, smtp, http) = try makeSite("term-finish", httpArguments: ["--delay", "1.5"])
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.drop(TestSite.laureatesEvent(id: "krotki"), as: "krotki.json")
        XCTAssertTrue(eventually { http.records().count == 1 && smtp.records().count == 2 }, daemon.output)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(timeout: 10), 0, daemon.output)
        XCTAssertEqual(try counts(site)["sent"], 3, daemon.output)
    }

    func testReloadWithABrokenConfigKeepsTheOldOneAndAValidOneAppliesToNewEvents() throws {
        let (site, smtp, _) = try makeSite("reload")
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        let good = try String(contentsOfFile: site.configPath, encoding: .utf8)

        try (good + "\nretyr: { first: 1s }\n").write(toFile: site.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertTrue(notify.waitFor("new configuration refused"), notify.messages.joined(separator: " | "))
        XCTAssertTrue(notify.messages.contains { $0.contains("RELOADING=1") })
        // The log line travels through a pipe read on another thread: give it a moment.
        XCTAssertTrue(daemon.waitForOutput(containing: "retyr", timeout: 5), "the error is logged with its key: \(daemon.output)")
        try site.drop(TestSite.laureatesEvent(id: "po-zlym-przeladowaniu"), as: "a.json")
        XCTAssertTrue(eventually { smtp.records().count == 2 }, "the old config keeps working:\n\(daemon.output)")

        let wider = good.replacingOccurrences(of: "partners: [rops@example.org, \"kwp@example.org\"]",
                                              with: "partners: [rops@example.org, \"kwp@example.org\", pcpr@example.org]")
        XCTAssertNotEqual(wider, good)
        try wider.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertTrue(notify.waitFor("configuration reloaded"), notify.messages.joined(separator: " | "))
        try site.drop(TestSite.laureatesEvent(id: "po-dobrym-przeladowaniu"), as: "b.json")
        XCTAssertTrue(eventually { smtp.records().count == 5 }, daemon.output)
        XCTAssertEqual(smtp.records().filter { ($0["rcpt_tos"] as? [String]) == ["pcpr@example.org"] }.count, 1)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0)
    }

    func testWatchdogIsPingedFromTheDeliveryLoopAtHalfTheInterval() throws {
        let (site, smtp, http) = try makeSite("watchdog")
        defer { withExtendedLifetime((smtp, http)) {} }
        let notify = try NotifySocket(directory: site.root)
        let daemon = try BackgroundProcess(
            executable: heroldBinary, arguments: ["serve", "--config", site.configPath],
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "600000"])
        cleanup.append { daemon.stop() }
        XCTAssertTrue(notify.waitFor("READY=1"), daemon.output)
        let start = Date()
        _ = notify.waitFor("never-sent", timeout: 2.5)
        let pings = notify.messages.filter { $0 == "WATCHDOG=1" }.count
        XCTAssertGreaterThanOrEqual(pings, 4, "2.5 s with WatchdogSec=0.6s: \(notify.messages)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 3)
    }

    /// A SIGTERM the moment herold says READY=1 is never lost (signals reach a handler that
    /// is in place before anything starts).
    func testSIGTERMRightAfterReadyStopsHerold() throws {
        let (site, smtp, http) = try makeSite("term-at-ready")
        defer { withExtendedLifetime((smtp, http)) {} }
        for round in 1...5 {
            let notify = try NotifySocket(directory: try makeTemporaryDirectory("term-at-ready-\(round)"))
            let daemon = try BackgroundProcess(executable: heroldBinary, arguments: ["serve", "--config", site.configPath],
                                               environment: ["NOTIFY_SOCKET": notify.path])
            cleanup.append { daemon.stop() }
            XCTAssertTrue(notify.waitFor("READY=1"), daemon.output)
            daemon.signal(SIGTERM)
            XCTAssertEqual(daemon.waitForExit(timeout: 10), 0, "round \(round): \(daemon.output)")
        }
    }
}
