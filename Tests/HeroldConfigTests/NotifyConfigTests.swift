import Foundation
import HeroldConfig
import HeroldCore
import XCTest

final class NotifyConfigTests: XCTestCase {
    private let smtp = """
        smtp:
          outbox: ./outbox
          from: "Powiadomienia <powiadomienia@example.org>"

        """

    private func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try ConfigLoader.load(text: yaml, file: "/srv/herold/herold.yaml", environment: [:])
            XCTFail("expected the config to be refused")
            return []
        } catch {
            return error.issues
        }
    }

    func testNotifyWithAddressAndPeriod() throws {
        let config = try ConfigLoader.load(text: smtp + "notify: { to: \"Dział IT <it@rops.example.org>\", every: 2h }",
                                           file: "/srv/herold/herold.yaml", environment: [:])
        XCTAssertEqual(config.notify, NotifyConfig(to: Mailbox(displayName: "Dział IT", address: "it@rops.example.org"), every: 7200))
        let seconds = try ConfigLoader.load(text: smtp + "notify:\n  to: it@rops.example.org\n  every: 2s\n",
                                            file: "/srv/herold/herold.yaml", environment: [:])
        XCTAssertEqual(seconds.notify?.every, 2, "short periods are allowed (tests, trials)")
        let plain = try ConfigLoader.load(text: smtp + "notify: { to: it@rops.example.org }", file: "/srv/herold/herold.yaml", environment: [:])
        XCTAssertEqual(plain.notify?.every, 3600, "default: one summary an hour")
        XCTAssertNil(try ConfigLoader.load(text: smtp, file: "/srv/herold/herold.yaml", environment: [:]).notify)
    }

    func testMistakesAreReportedAtTheirLine() {
        let found = issues(smtp + """
            notify:
              to: admin-at-example.org
              every: 0s
              evry: 1h
            """)
        let text = found.map(\.description).joined(separator: "\n")
        XCTAssertTrue(found.contains { $0.line == 5 && $0.message.contains("notify.to: \"admin-at-example.org\" is not a valid address") }, text)
        XCTAssertTrue(found.contains { $0.line == 6 && $0.message.contains("notify.every: 0s is out of range") }, text)
        XCTAssertTrue(found.contains { $0.line == 7 && $0.message.contains("unknown key \"evry\"") && ($0.fix ?? "").contains("every") }, text)
    }

    func testNotifyNeedsTheRelay() {
        let found = issues("spool: ./spool\n\nnotify: { to: it@rops.example.org }\n")
        XCTAssertEqual(found.count, 1, "\(found)")
        XCTAssertEqual(found.first?.line, 3)
        XCTAssertTrue(found.first?.message.contains("no smtp section") == true, "\(found)")
    }
}
