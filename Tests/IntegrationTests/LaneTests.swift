import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// One lane per destination: a slow or dead destination only holds up its own deliveries.
final class LaneTests: SiteTestCase {
    private func status(_ site: TestSite) throws -> [String: Any] {
        let result = try runHerold(["status", "--config", site.configPath, "--json"])
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    private func counts(_ site: TestSite) throws -> [String: Int] {
        try status(site)["counts"] as? [String: Int] ?? [:]
    }

    private func lane(_ destination: String, in site: TestSite) throws -> [String: Any]? {
        (try status(site)["destinations"] as? [[String: Any]])?.first { $0["destination"] as? String == destination }
    }

    /// `count` laureates events in one batch file (two emails and a webhook each).
    private func dropBatch(_ site: TestSite, prefix: String, count: Int) throws {
        let events = (1...count).map { TestSite.laureatesEvent(id: "\(prefix)-\($0)") }
        try site.drop("[" + events.joined(separator: ",\n") + "]", as: "\(prefix).json")
    }

    func testASlowWebhookEndpointDoesNotDelayMailToAFastRelay() throws {
        let (site, smtp, http) = try makeSite("slow-lane", httpArguments: ["--delay", "10"])
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        try dropBatch(site, prefix: "powolny", count: 20)
        // 40 emails to the fast relay, 20 webhooks to an endpoint answering after 10 s.
        XCTAssertTrue(eventually(timeout: 9) { smtp.records().count == 40 },
                      "mail waited for the slow endpoint: \(smtp.records().count) of 40 emails\n\(daemon.output)")
        let now = try counts(site)
        XCTAssertEqual(now["sent"], 40, "every email recorded sent while the webhooks are still out: \(now)")
        XCTAssertGreaterThan(http.records().count, 0)
        XCTAssertLessThanOrEqual(http.records().count, 8, "the endpoint's lane is 8 wide (max_connections default)")
    }

    func testAWrongRelayPasswordCostsOneLoginAndAReloadWithTheRightOneDeliversEverything() throws {
        let (site, smtp, http) = try makeSite("bad-password", smtpArguments: ["--auth", "herold:dobre-haslo"])
        defer { withExtendedLifetime(http) {} }
        let secret = site.root.appendingPathComponent("secrets/smtp-password")
        try "zle-haslo\n".write(to: secret, atomically: true, encoding: .utf8)
        let config = try String(contentsOfFile: site.configPath, encoding: .utf8)
            .replacingOccurrences(of: "  tls: none\n", with: "  tls: none\n  username: herold\n  password_file: secrets/smtp-password\n")
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        try dropBatch(site, prefix: "haslo", count: 5)

        XCTAssertTrue(eventually { (try? lane("smtp", in: site)?["lane"] as? String) == "paused" },
                      "the relay's lane pauses: \(String(describing: try? status(site)))\n\(daemon.output)")
        usleep(1_500_000)
        let logins = smtp.background.output.split(separator: "\n").filter { $0.hasPrefix("AUTH ") }.count
        XCTAssertEqual(logins, 1, "one refused login, not one per message:\n\(smtp.background.output)")
        let waiting = try counts(site)
        XCTAssertEqual(waiting["failed"], 0, "nothing becomes a dead letter: \(waiting)")
        XCTAssertEqual(waiting["pending"], 10, "the ten emails stay queued: \(waiting)")
        let text = try runHerold(["status", "--config", site.configPath]).stdout
        XCTAssertTrue(text.contains("smtp") && text.contains("PAUSED"), text)
        XCTAssertTrue(text.contains("535"), "status says why:\n\(text)")

        try "dobre-haslo\n".write(to: secret, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertTrue(eventually(timeout: 20) { smtp.records().count == 10 }, daemon.output)
        XCTAssertEqual(try counts(site)["sent"], 15)
    }

    func testADeadRelayWithTwoThousandQueuedSeesFewConnections() throws {
        let scratch = try makeTemporaryDirectory("dead-relay")
        cleanup.append { try? FileManager.default.removeItem(at: scratch) }
        let relay = try SinkServer(script: "dead_relay.py", directory: scratch.appendingPathComponent("relay"))
        let (site, _, http) = try makeSite("dead-relay")
        let config = try String(contentsOfFile: site.configPath, encoding: .utf8)
            .replacingOccurrences(of: #"url: smtp://127\.0\.0\.1:\d+"#, with: "url: smtp://127.0.0.1:\(relay.port)",
                                  options: .regularExpression)
            .replacingOccurrences(of: "  tls: none\n", with: "  tls: none\n  max_connections: 4\n")
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        for batch in 1...10 { try dropBatch(site, prefix: "martwy-\(batch)", count: 100) }

        // The other lane is unaffected: every webhook goes out.
        XCTAssertTrue(eventually(timeout: 60) { http.records().count == 1000 }, "\(http.records().count) webhooks\n\(daemon.output)")
        usleep(2_000_000)
        let connections = Int((try? String(contentsOf: scratch.appendingPathComponent("relay/connections"), encoding: .utf8)) ?? "") ?? 0
        XCTAssertGreaterThan(connections, 0)
        XCTAssertLessThanOrEqual(connections, 4, "2,000 queued messages, but the lane backs off as a whole after the first 421s")
        let smtpLane = try lane("smtp", in: site)
        XCTAssertEqual(smtpLane?["lane"] as? String, "backing-off", "\(String(describing: smtpLane))")
        XCTAssertEqual(smtpLane?["queued"] as? Int, 2000)
        XCTAssertTrue((smtpLane?["last_error"] as? String ?? "").contains("421"), "\(String(describing: smtpLane))")
        withExtendedLifetime(relay) {}
    }
}
