import Foundation
import XCTest

/// A rule's `not_after`: an event whose time is too far in the past sends nothing, and
/// `preview` says so before anyone drops it.
final class TooLateTests: SiteTestCase {
    private func event(id: String, time: Date) throws -> String {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(TestSite.laureatesEvent(id: id).utf8)) as? [String: Any])
        let formatter = ISO8601DateFormatter()
        object["time"] = formatter.string(from: time)
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    func testAnEventOlderThanItsRulesNotAfterIsNotSentAndPreviewSaysSo() throws {
        let (site, smtp, http) = try makeSite("not-after")
        let config = try String(contentsOfFile: site.configPath, encoding: .utf8)
            .replacingOccurrences(of: "    match: { type: laureates.announced }\n",
                                  with: "    match: { type: laureates.announced }\n    not_after: 2d\n")
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let stale = try event(id: "spoznione", time: Date().addingTimeInterval(-12 * 86400))
        let fresh = try event(id: "na-czas", time: Date().addingTimeInterval(-3600))
        let staleFile = site.root.appendingPathComponent("spoznione.json")
        try stale.write(to: staleFile, atomically: true, encoding: .utf8)

        let preview = try runHerold(["preview", "--config", site.configPath, staleFile.path])
        XCTAssertEqual(preview.status, 0, preview.stderr)
        XCTAssertEqual(preview.stdout.components(separatedBy: "NOT SENT: too late").count - 1, 3,
                       "each of the three messages is marked:\n\(preview.stdout)")

        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        try site.drop(stale, as: "spoznione.json")
        try site.drop(fresh, as: "na-czas.json")
        XCTAssertTrue(eventually { smtp.records().count == 2 && http.records().count == 1 }, daemon.output)
        usleep(1_000_000)
        XCTAssertEqual(smtp.records().count, 2, "only the fresh event's emails")
        XCTAssertEqual(http.records().count, 1)
        let status = try runHerold(["status", "--config", site.configPath, "--json"])
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let problems = report["problems"] as? [[String: Any]] ?? []
        XCTAssertEqual(problems.count, 3, status.stdout)
        XCTAssertTrue(problems.allSatisfy { ($0["event_id"] as? String) == "spoznione" && ($0["reason"] as? String ?? "").contains("expired at") },
                      status.stdout)
        XCTAssertTrue(daemon.output.contains("delivery not sent: too late"), daemon.output)
    }
}
