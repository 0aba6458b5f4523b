import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Reminders and the calendar with the built binary, real spool, journal and SMTP sink.
final class SchedulingEndToEndTests: SiteTestCase {

    private let warsaw = TimeZone(identifier: "Europe/Warsaw")!

    private func makeMailSite(_ name: String, extraYAML: String) throws -> (TestSite, SinkServer) {
        let scratch = try makeTemporaryDirectory("\(name)-sinks")
        let smtp = try SinkServer(script: "smtp_sink.py", directory: scratch.appendingPathComponent("mail"))
        let site = try TestSite(name: name, smtpPort: smtp.port, httpPort: 9, extraYAML: extraYAML)
        cleanup.append { site.remove(); try? FileManager.default.removeItem(at: scratch) }
        return (site, smtp)
    }

    /// "YYYY-MM-DD" of `instant` in Warsaw.
    private func localDay(_ instant: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = warsaw
        let c = calendar.dateComponents([.year, .month, .day], from: instant)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    private func upcoming(_ site: TestSite) throws -> [[String: Any]] {
        let result = try runHerold(["upcoming", "--config", site.configPath, "--days", "120", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]], result.stdout)
    }

    private func deadlineEvent(id: String, deadline: String, cancelled: Bool = false) -> String {
        """
        {"specversion":"1.0","id":"\(id)","source":"https://rops.example.org/konkursy","type":"contest.deadline",
         "subject":"lider-2026","data":{"contest":"Lider Pomocy Społecznej","deadline":"\(deadline)"\(cancelled ? ",\"cancelled\":true" : "")}}
        """
    }

    func testContestDeadlineShowsItsThreeRemindersThenMovesThenIsWithdrawn() throws {
        let (site, _) = try makeMailSite("remind", extraYAML: """
              - name: przypomnienia
                match: { type: contest.deadline }
                remind: { field: data.deadline, before: [14d, 7d, 1d], at: "09:00" }
                send:
                  - email: { to: [kierownik@gops.example.org], template: laureaci }
            """)
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }

        let deadline = Date().addingTimeInterval(40 * 86400)
        try site.drop(deadlineEvent(id: "k1", deadline: localDay(deadline)), as: "k1.json")
        XCTAssertTrue(eventually { site.newFiles().isEmpty }, daemon.output)
        var items = try upcoming(site).filter { $0["rule"] as? String == "przypomnienia" }
        let expectedDays = [14, 7, 1].map { localDay(deadline.addingTimeInterval(Double(-$0) * 86400)) }
        XCTAssertEqual(items.count, 3, "\(items)")
        for (item, day) in zip(items, expectedDays) {
            let local = try XCTUnwrap(item["local_time"] as? String)
            XCTAssertTrue(local.hasPrefix("\(day) 09:00 +0"), local)
            XCTAssertEqual(item["recipient"] as? String, "kierownik@gops.example.org")
            XCTAssertEqual(item["event_id"] as? String, "k1")
        }

        // Moved by ten days: the earlier reminders give way to three new ones.
        let moved = deadline.addingTimeInterval(10 * 86400)
        try site.drop(deadlineEvent(id: "k2", deadline: localDay(moved)), as: "k2.json")
        XCTAssertTrue(eventually { site.newFiles().isEmpty }, daemon.output)
        items = try upcoming(site).filter { $0["rule"] as? String == "przypomnienia" }
        XCTAssertEqual(items.compactMap { $0["event_id"] as? String }, ["k2", "k2", "k2"])
        XCTAssertTrue((items.first?["local_time"] as? String)?.hasPrefix(localDay(moved.addingTimeInterval(-14 * 86400))) ?? false)

        // Withdrawn: nothing left, and the status says why.
        try site.drop(deadlineEvent(id: "k3", deadline: localDay(moved), cancelled: true), as: "k3.json")
        XCTAssertTrue(eventually { site.newFiles().isEmpty }, daemon.output)
        XCTAssertEqual(try upcoming(site).count, 0)
        let status = try runHerold(["status", "--config", site.configPath])
        XCTAssertTrue(status.stdout.contains("withdrawn by event k3"), status.stdout)
        XCTAssertTrue(status.stdout.contains("replaced by event k2"), status.stdout)
    }

    func testCalendarDateJustPassedIsSentOnceAndNotAgainAfterARestart() throws {
        // Due two minutes ago: within grace, so sent at start; the restart must not send it again.
        let due = Date().addingTimeInterval(-120)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = warsaw
        let c = calendar.dateComponents([.month, .day, .hour, .minute, .year], from: due)
        let (site, smtp) = try makeMailSite("calendar", extraYAML: String(format: """
              - name: zyczenia
                match: { type: day.social-worker }
                send:
                  - email: { to: [partners], template: laureaci }
            calendar:
              - name: Dzień Pracownika Socjalnego
                date: "%02d-%02d"
                at: "%02d:%02d"
                type: day.social-worker
            """, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0))

        let upcomingBefore = try runHerold(["upcoming", "--config", site.configPath, "--days", "400", "--json"])
        let planned = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(upcomingBefore.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(planned.first?["kind"] as? String, "calendar")
        XCTAssertEqual(planned.first?["event_id"] as? String, "dzien-pracownika-socjalnego-\((c.year ?? 0) + 1)")

        var daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        XCTAssertTrue(eventually { smtp.records().count >= 2 }, daemon.output)
        XCTAssertTrue(daemon.waitForOutput(containing: "calendar event emitted", timeout: 5), daemon.output)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0)

        daemon = try site.startDaemon(notify: try NotifySocket(directory: try makeTemporaryDirectory("cal-n2")))
        usleep(1_500_000)
        XCTAssertEqual(smtp.records().count, 2, daemon.output)
        XCTAssertFalse(daemon.output.contains("calendar event emitted"), daemon.output)
    }
}
