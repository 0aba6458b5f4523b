import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `notify: { to, every }`: the built daemon mails the admin one Polish summary per period,
/// through the same relay, of deliveries that failed and destinations that paused — each with
/// the command that retries it — and never again for the same failures, across a restart.
final class AdminNotifyTests: SiteTestCase {
    static let admin = "admin@rops.example.org"

    private func body(smtpPort: Int, httpPort: Int, notify: Bool) -> String {
        """
        smtp:
          url: smtp://127.0.0.1:\(smtpPort)
          tls: none
          from: "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>"
          connect_timeout: 5
          timeout: 10
        webhooks:
          partnerzy-hub:
            url: https://127.0.0.1:\(httpPort)/hook
            secret_file: secrets/hub.whsec
            allow_private: true
            connect_timeout: 5
            timeout: 5
        recipients:
          partners: [rops@example.org, kwp@example.org]
        rules:
          - name: oglos-laureatow
            match: { type: laureates.announced }
            send:
              - email: { to: [partners], template: laureaci }
              - webhook: { endpoint: partnerzy-hub }
        \(notify ? "notify: { to: \(Self.admin), every: 3s }" : "")
        """
    }

    /// The admin's summaries the relay received, oldest first.
    private func summaries(_ smtp: SinkServer) -> [[String: Any]] { smtp.mails(to: Self.admin) }

    private func failedID(_ site: FaultSite, edition: String) throws -> String? {
        let list = (try site.status()["problems"] as? [[String: Any]]) ?? []
        return list.first { $0["recipient"] as? String == "kwp@example.org" && ($0["event_id"] as? String)?.hasSuffix(edition) == true }?["id"] as? String
    }

    func testOneSummaryPerPeriodWithTheFailuresAndThePausedLaneAndNeverTheSameTwice() throws {
        let scratch = try makeTemporaryDirectory("notify-sinks")
        cleanup.append { try? FileManager.default.removeItem(at: scratch) }
        // kwp@ is refused for good (550); the webhook endpoint speaks plain HTTP to an https
        // URL, so its TLS handshake fails and its lane pauses.
        let smtp = try SinkServer(script: "smtp_sink.py", directory: scratch.appendingPathComponent("mail"),
                                  extraArguments: ["--fail-rcpt", "kwp@example.org=550"])
        let http = try SinkServer(script: "http_sink.py", directory: scratch.appendingPathComponent("http"))
        let site = try FaultSite(name: "notify", body: body(smtpPort: smtp.port, httpPort: http.port, notify: false))
        cleanup.append { site.remove() }

        // Without notify: the failure and the pause happen, and nobody is told.
        var notify = try NotifySocket(directory: site.site.root)
        var daemon = try site.site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.enqueue(TestSite.laureatesEvent(id: "laureaci-2026-I", edition: "I"))
        XCTAssertTrue(try eventually(timeout: 30) {
            let status = try site.status()
            let lanes = (status["destinations"] as? [[String: Any]]) ?? []
            return try failedID(site, edition: "I") != nil
                && lanes.contains { $0["destination"] as? String == "webhook:partnerzy-hub" && $0["lane"] as? String == "paused" }
        }, "no failure and pause:\n\((try? site.status()) ?? [:])\n\(daemon.output)")
        let firstFailure = try XCTUnwrap(try failedID(site, edition: "I"))
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)
        XCTAssertEqual(summaries(smtp).count, 0)

        // With notify (every: 3s): one summary, with both, and the commands that fix them.
        try site.write(body: body(smtpPort: smtp.port, httpPort: http.port, notify: true))
        notify = try NotifySocket(directory: try makeTemporaryDirectory("notify-sock"))
        daemon = try site.site.startDaemon(notify: notify)
        XCTAssertTrue(eventually(timeout: 20) { summaries(smtp).count == 1 }, daemon.output)
        let first = try XCTUnwrap(summaries(smtp).first)
        let text = first["body_lf"] as? String ?? ""
        XCTAssertTrue((first["subject"] as? String ?? "").hasPrefix("herold ("), "\(first)")
        XCTAssertEqual(first["from"] as? String, "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>")
        XCTAssertTrue(text.contains("Nieudane wysyłki"), text)
        XCTAssertTrue(text.contains("e-mail do kwp@example.org (reguła oglos-laureatow, zdarzenie laureaci-2026-I"), text)
        XCTAssertTrue(text.contains("smtp.550"), "why: \(text)")
        XCTAssertTrue(text.contains("Ponów: herold requeue \(firstFailure)"), text)
        XCTAssertTrue(text.contains("Zatrzymane kanały"), text)
        XCTAssertTrue(text.contains("webhook:partnerzy-hub"), text)
        XCTAssertTrue(text.contains("tls.handshake"), "why the lane paused: \(text)")
        XCTAssertTrue(text.contains("systemctl reload herold"), text)
        XCTAssertFalse(text.contains("rops@example.org"), "a delivered email is no problem: \(text)")

        // Not again for the same failures: two more periods, and a restart, send nothing.
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)
        notify = try NotifySocket(directory: try makeTemporaryDirectory("notify-sock"))
        daemon = try site.site.startDaemon(notify: notify)
        Thread.sleep(forTimeInterval: 8)
        XCTAssertEqual(summaries(smtp).count, 1, "the same failures told again:\n\(daemon.output)")

        // A new failure is news: the next summary tells it alone, no sooner than a period later.
        try site.enqueue(TestSite.laureatesEvent(id: "laureaci-2026-II", edition: "II"))
        XCTAssertTrue(eventually(timeout: 20) { summaries(smtp).count == 2 }, daemon.output)
        let secondFailure = try XCTUnwrap(try failedID(site, edition: "II"))
        let second = summaries(smtp)[1]
        let secondText = second["body_lf"] as? String ?? ""
        XCTAssertTrue(secondText.contains("herold requeue \(secondFailure)"), secondText)
        XCTAssertFalse(secondText.contains(firstFailure), "told twice: \(secondText)")
        XCTAssertFalse(secondText.contains("Zatrzymane kanały"), "the same pause told twice: \(secondText)")

        // The summaries are not deliveries: the journal holds only the rule's six.
        let counts = try site.counts()
        XCTAssertEqual(counts.values.reduce(0, +), 6, "\(counts)")
        XCTAssertEqual(summaries(smtp).count, 2)
        withExtendedLifetime(http) {}
    }

    /// A summary the relay refuses is logged and tried again a period later; it never becomes a
    /// delivery of its own, so no summary is ever about a summary.
    func testARefusedSummaryIsLoggedAndTriedAgainNextPeriodNeverReportedItself() throws {
        let scratch = try makeTemporaryDirectory("notify-refused")
        cleanup.append { try? FileManager.default.removeItem(at: scratch) }
        let smtp = try SinkServer(script: "smtp_sink.py", directory: scratch.appendingPathComponent("mail"),
                                  extraArguments: ["--fail-rcpt", "kwp@example.org=550", "--fail-rcpt", "\(Self.admin)=550"])
        let http = try SinkServer(script: "http_sink.py", directory: scratch.appendingPathComponent("http"))
        let site = try FaultSite(name: "notify-refused", body: body(smtpPort: smtp.port, httpPort: http.port, notify: true))
        cleanup.append { site.remove() }
        let notify = try NotifySocket(directory: site.site.root)
        let daemon = try site.site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.enqueue(TestSite.laureatesEvent(id: "laureaci-2026-I", edition: "I"))
        XCTAssertTrue(eventually(timeout: 30) {
            daemon.output.components(separatedBy: "admin summary not sent; will try again next period").count - 1 >= 2
        }, daemon.output)
        XCTAssertTrue(daemon.output.contains("to=\(Self.admin)"), daemon.output)
        // Tried once per period (every: 3s; the log's times are whole seconds).
        let tries = daemon.output.split(separator: "\n").filter { $0.contains("admin summary not sent") }
            .compactMap { line in line.split(separator: " ").first { $0.hasPrefix("time=") }.flatMap { ISO8601DateFormatter().date(from: String($0.dropFirst(5))) } }
        XCTAssertGreaterThanOrEqual(tries.count, 2, daemon.output)
        if tries.count >= 2 { XCTAssertGreaterThanOrEqual(tries[1].timeIntervalSince(tries[0]), 2, "tried again within the period") }
        XCTAssertEqual(summaries(smtp).count, 0)
        let counts = try site.counts()
        XCTAssertEqual(counts.values.reduce(0, +), 3, "a summary became a delivery: \(counts)")
        XCTAssertEqual(counts["failed"], 1, "\(counts)")
        withExtendedLifetime(http) {}
    }
}
