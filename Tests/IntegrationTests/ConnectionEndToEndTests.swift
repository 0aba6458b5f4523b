import Foundation
import XCTest

/// The built binary against a STARTTLS relay with AUTH that drops sessions idle for 2 s (as
/// Postfix does after `smtpd_timeout`, with a 421): the next message goes at once on a new
/// session, with no deferral and no second attempt.
final class ConnectionEndToEndTests: SiteTestCase {
    func testARelayThatDropsIdleSessionsCostsNoDeferral() throws {
        let ca = try makeTestCA("idle-ca")
        let mail = try makeTemporaryDirectory("idle-mail")
        cleanup.append { try? FileManager.default.removeItem(at: mail) }
        let relay = try SinkServer(script: "smtp_sink.py", directory: mail, extraArguments: [
            "--starttls", ca.appendingPathComponent("server.pem").path, ca.appendingPathComponent("server.key").path,
            "--auth", "rops:tajne-hasło", "--auth-require-tls", "--idle-timeout", "2",
        ])
        // A deferral would wait 5 minutes: the second message arriving at all shows there was none.
        let site = try FaultSite(name: "idle-relay", body: relaySiteBody(port: relay.port, ca: ca),
                                 retry: "retry: { first: 5m, max: 10m }")
        cleanup.append { site.remove() }
        try "tajne-hasło\n".write(to: site.site.root.appendingPathComponent("secrets/smtp-haslo"), atomically: true, encoding: .utf8)
        let daemon = try site.site.startDaemon(notify: try NotifySocket(directory: site.site.root))
        cleanup.append { daemon.stop() }

        try site.site.drop(TestSite.laureatesEvent(id: "przed-przerwa"), as: "przed.json")
        XCTAssertTrue(eventually(timeout: 20) { relay.records().count == 1 }, daemon.output)
        let idleClosed = eventually(timeout: 15) {
            let events = (try? String(contentsOf: mail.appendingPathComponent("events.jsonl"), encoding: .utf8)) ?? ""
            return events.contains("\"IDLE_CLOSE\"")
        }
        XCTAssertTrue(idleClosed, "the relay dropped the idle session")

        try site.site.drop(TestSite.laureatesEvent(id: "po-przerwie"), as: "po.json")
        XCTAssertTrue(eventually(timeout: 20) { relay.records().count == 2 }, "the second message waits:\n\(daemon.output)")
        XCTAssertTrue(eventually { (try? site.counts()["sent"]) == 2 }, "\((try? site.status()) ?? [:])")
        XCTAssertEqual(relay.records().map { $0["session"] as? Int }, [1, 2], "the second message came on a new session")
        XCTAssertEqual(relay.records().map { $0["auth_user"] as? String }, ["rops", "rops"])

        let counts = try site.counts()
        XCTAssertEqual(counts["deferred"], 0, "\(counts)")
        let smtpLane = (try site.status()["destinations"] as? [[String: Any]])?.first { $0["destination"] as? String == "smtp" }
        XCTAssertEqual(smtpLane?["lane"] as? String ?? "open", "open", "\(String(describing: smtpLane))")
        let log = daemon.output
        XCTAssertFalse(log.contains("delivery deferred"), log)
        let delivered = log.split(separator: "\n").filter { $0.contains("delivered") }
        XCTAssertEqual(delivered.count, 2, log)
        XCTAssertTrue(delivered.allSatisfy { $0.contains("attempt=1") }, "each message took one attempt:\n\(log)")
        XCTAssertTrue(log.contains("sending on a new connection"), "the reconnect is logged:\n\(log)")
    }
}
