import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// herold on a shared PostgreSQL journal, against the server `scripts/test.sh` starts
/// (`HEROLD_TEST_POSTGRES_URL`): two nodes killed and taking over from each other, a SQLite
/// journal moved over without sending anything again, and a journal out of reach at start.
final class TwoNodeTests: SiteTestCase {
    /// The test server's URL; a failure (never a skip) when there is none.
    private func postgresServer(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let url = ProcessInfo.processInfo.environment["HEROLD_TEST_POSTGRES_URL"], !url.isEmpty else {
            XCTFail("no PostgreSQL server: run scripts/test.sh, or set HEROLD_TEST_POSTGRES_URL", file: file, line: line)
            throw HarnessError("HEROLD_TEST_POSTGRES_URL is not set")
        }
        return url
    }

    /// A fresh database on the test server, dropped when the test ends; its URL.
    private func makeDatabase(_ server: String) throws -> String {
        let name = "herold_it_\(UInt32.random(in: 0...UInt32.max))"
        try psql(server, "CREATE DATABASE \(name)")
        cleanup.append { [self] in try? psql(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        guard var parts = URLComponents(string: server) else { throw HarnessError("not a URL: \(server)") }
        parts.path = "/\(name)"
        return parts.string ?? server
    }

    private func psql(_ url: String, _ sql: String) throws {
        let run = try BackgroundProcess(executable: URL(fileURLWithPath: "/usr/bin/env"),
                                        arguments: ["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        guard run.waitForExit(timeout: 60) == 0 else { throw HarnessError("psql \(sql): \(run.output)") }
    }

    private func setJournal(_ site: TestSite, _ yaml: String) throws {
        let path = URL(fileURLWithPath: site.configPath)
        let text = try String(contentsOf: path, encoding: .utf8)
        try (text + "\n" + yaml + "\n").write(to: path, atomically: true, encoding: .utf8)
    }

    private func counts(_ site: TestSite) throws -> [String: Int] {
        let status = try runHerold(["status", "--config", site.configPath, "--json"])
        guard status.status == 0, let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any] else {
            throw HarnessError("herold status failed (\(status.status)): \(status.stderr)")
        }
        return object["counts"] as? [String: Int] ?? [:]
    }

    /// `scripts/crash-test-two-nodes.py` on a small scale: nothing lost, repeats keep their
    /// ids, and the survivor delivers a killed node's work once its leases run out.
    func testTwoNodesKilledAgainAndAgainLoseNothingAndTheSurvivorTakesOver() throws {
        let server = try postgresServer()
        let script = repositoryRoot.appendingPathComponent("scripts/crash-test-two-nodes.py").path
        // As in CrashTests: a kill can repeat every transfer then between the server's reply
        // and the journal's record; the README has the figures of a full run.
        let run = try BackgroundProcess(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: [
            "python3", script, "--herold", heroldBinary.path, "--postgres", server, "--events", "300", "--kills", "10",
            "--failover-events", "60", "--lease", "10", "--max-repeats-per-kill", "16", "--timeout", "90",
        ])
        XCTAssertEqual(run.waitForExit(timeout: 400), 0, run.output)
        let line = try XCTUnwrap(run.output.split(separator: "\n").last { $0.hasPrefix("{") }, run.output)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(summary["missing"] as? Int, 0, run.output)
        XCTAssertEqual(summary["distinct_ids"] as? Int, 360 * 3, run.output)
        XCTAssertEqual(summary["problems"] as? [String], [], run.output)
        let held = try XCTUnwrap(summary["failover_held_by_a"] as? Int, run.output)
        XCTAssertGreaterThan(held, 0, "node a held nothing when it was killed: the take-over was not tried")
        // `herold status` on node b said who held what.
        let nodes = try XCTUnwrap(summary["failover_status_nodes"] as? [[String: Any]], run.output)
        XCTAssertTrue(nodes.contains { $0["node"] as? String == "a" && ($0["inflight"] as? Int ?? 0) >= 1 }, "\(nodes)")
        let failover = try XCTUnwrap(summary["failover_seconds"] as? Double, run.output)
        XCTAssertGreaterThanOrEqual(failover, 5, "taken over before the lease ran out: \(run.output)")
    }

    /// A SQLite journal with mail sent and mail still waiting moves to PostgreSQL: what was
    /// sent is not sent again, what waited goes out with the same id, and a second copy into
    /// the now non-empty journal is refused.
    func testJournalCopyMovesASQLiteJournalAndSendsOnlyWhatWasStillDue() throws {
        let server = try postgresServer()
        let (site, firstRelay, http) = try makeSite(
            "copy", smtpArguments: ["--fail-rcpt", "kwp@example.org=451"], extraYAML: "retry: { first: 1s, max: 2s }")
        let notify = try NotifySocket(directory: site.root)
        var daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.drop(TestSite.laureatesEvent(id: "laureaci-2026"), as: "laureaci.json")
        XCTAssertTrue(eventually { firstRelay.records().count == 1 && http.records().count == 1 }, daemon.output)
        XCTAssertTrue(eventually { (try? self.counts(site))?["deferred"] == 1 }, daemon.output)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)

        // The relay is fixed and the journal moves.
        let scratch = try makeTemporaryDirectory("copy-relay")
        cleanup.append { try? FileManager.default.removeItem(at: scratch) }
        let relay = try SinkServer(script: "smtp_sink.py", directory: scratch)
        let config = URL(fileURLWithPath: site.configPath)
        let text = try String(contentsOf: config, encoding: .utf8)
        try text.replacingOccurrences(of: "smtp://127.0.0.1:\(firstRelay.port)", with: "smtp://127.0.0.1:\(relay.port)")
            .write(to: config, atomically: true, encoding: .utf8)
        let database = try makeDatabase(server)
        try setJournal(site, "journal: { url: \"\(database)\", node: wezel-1 }")
        let state = site.root.appendingPathComponent("state").path
        let copy = try runHerold(["journal", "copy", "--from", state, "--config", site.configPath])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        XCTAssertTrue(copy.stdout.contains("events: 1 rows copied"), copy.stdout)
        XCTAssertTrue(copy.stdout.contains("deliveries: 3 rows copied"), copy.stdout)
        XCTAssertEqual(try counts(site)["sent"], 2)

        daemon = try site.startDaemon(notify: notify)
        XCTAssertTrue(eventually { relay.records().count == 1 }, daemon.output)
        let mail = try XCTUnwrap(relay.records().first)
        XCTAssertEqual((mail["rcpt_tos"] as? [String])?.first, "kwp@example.org")
        XCTAssertTrue(eventually { (try? self.counts(site))?["sent"] == 3 }, daemon.output)
        usleep(1_500_000)
        XCTAssertEqual(relay.records().count, 1, "mail sent before the move went out again")
        XCTAssertEqual(http.records().count, 1, "the webhook sent before the move went out again")
        XCTAssertEqual(firstRelay.records().count, 1)

        let again = try runHerold(["journal", "copy", "--from", state, "--config", site.configPath])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("is in use") || again.stderr.contains("already records events"), again.stderr)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)
        let third = try runHerold(["journal", "copy", "--from", state, "--config", site.configPath])
        XCTAssertEqual(third.status, 74, third.stderr)
        XCTAssertTrue(third.stderr.contains("already records events"), third.stderr)
    }

    /// With the database out of reach, herold keeps its spool files, says so, and is not
    /// READY; once the database answers it starts by itself and delivers.
    func testAJournalOutOfReachAtStartIsWaitedForAndNothingIsLost() throws {
        let server = try postgresServer()
        let database = try makeDatabase(server)
        guard let target = URLComponents(string: database), let targetPort = target.port else {
            throw HarnessError("no port in \(database)")
        }
        let port = try HTTPProbe.freePort()
        var proxied = URLComponents(string: database) ?? target
        proxied.port = port
        let (site, smtp, http) = try makeSite("unreachable")
        try setJournal(site, "journal: { url: \"\(proxied.string ?? database)\", node: wezel-1 }")
        try site.drop(TestSite.laureatesEvent(id: "laureaci-2026"), as: "laureaci.json")
        let notify = try NotifySocket(directory: site.root)
        let daemon = try BackgroundProcess(executable: heroldBinary, arguments: ["serve", "--config", site.configPath],
                                           environment: ["NOTIFY_SOCKET": notify.path])
        cleanup.append { daemon.stop() }
        XCTAssertTrue(daemon.waitForOutput(containing: "journal unreachable; spool files wait, trying again"), daemon.output)
        XCTAssertFalse(notify.waitFor("READY=1", timeout: 2), "READY=1 before the journal answered")
        XCTAssertEqual(site.newFiles(), ["laureaci.json"])

        // The database comes back (a forwarder on the port herold was told).
        let forwarder = try BackgroundProcess(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: [
            "python3", repositoryRoot.appendingPathComponent("Tests/Support/tcp_forward.py").path,
            "--listen", "\(port)", "--to", "\(targetPort)",
        ])
        cleanup.append { forwarder.stop() }
        XCTAssertTrue(notify.waitFor("READY=1", timeout: 45), daemon.output)
        XCTAssertTrue(eventually(timeout: 20) { smtp.records().count == 2 && http.records().count == 1 }, daemon.output)
        XCTAssertTrue(site.newFiles().isEmpty)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)
    }

    /// PostgreSQL goes away while herold serves (every connection cut) and events keep
    /// arriving: herold keeps running and keeps the files, and when the database is back it
    /// takes them in and delivers everything, by itself.
    func testADatabaseOutageWhileServingLosesNothingAndHeroldResumesByItself() throws {
        let server = try postgresServer()
        let database = try makeDatabase(server)
        guard let target = URLComponents(string: database), let targetPort = target.port else {
            throw HarnessError("no port in \(database)")
        }
        let port = try HTTPProbe.freePort()
        var proxied = target
        proxied.port = port
        let forward = { try BackgroundProcess(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: [
            "python3", repositoryRoot.appendingPathComponent("Tests/Support/tcp_forward.py").path,
            "--listen", "\(port)", "--to", "\(targetPort)",
        ]) }
        var forwarder = try forward()
        cleanup.append { forwarder.stop() }
        XCTAssertTrue(forwarder.waitForOutput(containing: "READY"), forwarder.output)
        let (site, smtp, http) = try makeSite("outage")
        try setJournal(site, "journal: { url: \"\(proxied.string ?? database)\", node: wezel-1 }")
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.drop(TestSite.laureatesEvent(id: "przed-awaria", edition: "I"), as: "przed.json")
        XCTAssertTrue(eventually { smtp.records().count == 2 && http.records().count == 1 }, daemon.output)

        forwarder.stop()   // every connection to the database is cut, and no new one is taken
        for n in 1...3 {
            try site.drop(TestSite.laureatesEvent(id: "w-trakcie-\(n)", edition: "II"), as: "w-trakcie-\(n).json")
        }
        XCTAssertTrue(daemon.waitForOutput(containing: "level=warning", timeout: 20), daemon.output)
        usleep(2_000_000)
        XCTAssertTrue(daemon.process.isRunning, "herold stopped during the outage:\n\(daemon.output)")
        XCTAssertEqual(smtp.records().count, 2, "sent while the journal was out of reach")
        XCTAssertFalse(site.newFiles().isEmpty, "spool files were taken while the journal was out of reach")

        forwarder = try forward()
        XCTAssertTrue(eventually(timeout: 60) { smtp.records().count == 8 && http.records().count == 4 },
                      "after the outage: \(smtp.records().count) emails, \(http.records().count) webhooks; herold said:\n\(daemon.output)")
        XCTAssertTrue(site.newFiles().isEmpty)
        XCTAssertTrue(eventually { (try? self.counts(site))?["sent"] == 12 })
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)
    }

    /// `tls: require` with `ca_file`: the journal is reached over TLS with the server's
    /// certificate checked (a server that refuses plain connections answers; one signed by
    /// another CA is refused with a clear reason).
    func testTheJournalOverTLSChecksTheServersCertificate() throws {
        let ca = try makeTestCA()
        let folder = try makeTemporaryDirectory("pg-tls")
        let script = repositoryRoot.appendingPathComponent("scripts/pg-test-cluster.sh").path
        let started = try BackgroundProcess(executable: URL(fileURLWithPath: "/bin/bash"), arguments: [
            script, "start", folder.appendingPathComponent("cluster").path,
            ca.appendingPathComponent("server.pem").path, ca.appendingPathComponent("server.key").path,
        ])
        cleanup.append {
            _ = try? BackgroundProcess(executable: URL(fileURLWithPath: "/bin/bash"),
                                       arguments: [script, "stop", folder.appendingPathComponent("cluster").path]).waitForExit(timeout: 60)
            try? FileManager.default.removeItem(at: folder)
        }
        XCTAssertEqual(started.waitForExit(timeout: 120), 0, started.output)
        let url = try XCTUnwrap(started.output.split(separator: "\n").last { $0.hasPrefix("postgresql://") }.map(String.init),
                                started.output)
        // Plain connections are refused from now on: only TLS gets in.
        let hba = folder.appendingPathComponent("cluster/data/pg_hba.conf")
        try "hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n"
            .write(to: hba, atomically: false, encoding: .utf8)
        try psql(url, "SELECT pg_reload_conf()")

        let (site, _, _) = try makeSite("pg-tls")
        let config = URL(fileURLWithPath: site.configPath)
        let body = try String(contentsOf: config, encoding: .utf8)
        func status(_ journal: String) throws -> CommandResult {
            try (body + "\n" + journal + "\n").write(to: config, atomically: true, encoding: .utf8)
            return try runHerold(["status", "--config", site.configPath])
        }
        let verified = try status("journal: { url: \"\(url)\", tls: require, ca_file: \(ca.appendingPathComponent("ca.pem").path) }")
        XCTAssertEqual(verified.status, 0, verified.stderr)
        XCTAssertTrue(verified.stdout.contains("deliveries: pending 0"), verified.stdout)
        let plain = try status("journal: { url: \"\(url)\", tls: none }")
        XCTAssertEqual(plain.status, 74, "a plain connection got in: \(plain.stdout)")
        let stranger = try status("journal: { url: \"\(url)\", tls: require, ca_file: \(ca.appendingPathComponent("other-ca.pem").path) }")
        XCTAssertEqual(stranger.status, 74, stranger.stdout)
        XCTAssertTrue(stranger.stderr.lowercased().contains("certificate"), stranger.stderr)
    }

    /// The calendar runs on both nodes: a date is emitted once (its event's `(source, id)`),
    /// and again once after both nodes restart.
    func testTheCalendarOnTwoNodesSendsEachDateOnceAcrossARestartOfBoth() throws {
        let server = try postgresServer()
        let database = try makeDatabase(server)
        // The next whole minute at least 20 s away, in Warsaw, as the calendar reads it.
        var warsaw = Calendar(identifier: .gregorian)
        warsaw.timeZone = try XCTUnwrap(TimeZone(identifier: "Europe/Warsaw"))
        let soon = Date().addingTimeInterval(80)
        let at = warsaw.dateComponents([.month, .day, .hour, .minute], from: soon)
        let due = try XCTUnwrap(warsaw.date(from: warsaw.dateComponents([.year, .month, .day, .hour, .minute], from: soon)))
        let entry = """
              - name: zyczenia
                match: { type: day.social-worker }
                send:
                  - email: { to: [partners], template: laureaci }
            calendar:
              - name: Dzień próbny
                date: "\(String(format: "%02d-%02d", at.month ?? 1, at.day ?? 1))"
                at: "\(String(format: "%02d:%02d", at.hour ?? 0, at.minute ?? 0))"
                type: day.social-worker
            """
        let (siteA, smtp, http) = try makeSite("calendar-a", extraYAML: entry)
        let siteB = try TestSite(name: "calendar-b", smtpPort: smtp.port, httpPort: http.port, extraYAML: entry)
        cleanup.append { siteB.remove() }
        var daemons: [BackgroundProcess] = []
        cleanup.append { daemons.forEach { $0.stop() } }
        let sockets = try [siteA, siteB].map { try NotifySocket(directory: $0.root) }
        for (index, site) in [siteA, siteB].enumerated() {
            try setJournal(site, "journal: { url: \"\(database)\", node: \(["a", "b"][index]) }")
            daemons.append(try site.startDaemon(notify: sockets[index]))
        }
        let wait = due.timeIntervalSinceNow + 30
        XCTAssertTrue(eventually(timeout: max(wait, 30)) { smtp.records().count >= 2 },
                      "no greeting; node a said:\n\(daemons[0].output)\nnode b said:\n\(daemons[1].output)")
        usleep(3_000_000)
        XCTAssertEqual(smtp.records().count, 2, "one greeting per partner, whichever node emitted it")
        XCTAssertEqual(Set(smtp.records().compactMap { ($0["rcpt_tos"] as? [String])?.first }), ["rops@example.org", "kwp@example.org"])

        // Both nodes restart, still on the day within grace: nothing new.
        for daemon in daemons {
            daemon.signal(SIGTERM)
            XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)
        }
        daemons = try [siteA, siteB].enumerated().map { index, site in try site.startDaemon(notify: sockets[index]) }
        usleep(4_000_000)
        XCTAssertEqual(smtp.records().count, 2, "the date was sent again after a restart")
        XCTAssertEqual(try counts(siteB)["sent"], 2)
    }
}
