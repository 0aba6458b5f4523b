import Foundation
import XCTest

/// `hold`, `release`, `purge` and `status` against a running daemon.
final class OperatorCommandTests: SiteTestCase {

    func testHoldReleaseAndPurgeWhileTheDaemonRuns() throws {
        let dir = try makeTemporaryDirectory("operator-sinks")
        cleanup.append { try? FileManager.default.removeItem(at: dir) }
        let smtp = try SinkServer(script: "smtp_sink.py", directory: dir, extraArguments: [
            "--fail-rcpt", "later@example.org=451", "--fail-rcpt", "refused@example.org=550",
        ])
        let site = try FaultSite(name: "operator", body: """
            smtp:
              url: smtp://127.0.0.1:\(smtp.port)
              tls: none
              from: "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>"
            recipients:
              partners: [ok@example.org, later@example.org, refused@example.org]
            rules:
              - name: oglos-laureatow
                match: { type: laureates.announced }
                send:
                  - email: { to: [partners], template: laureaci }
            """)
        cleanup.append { site.remove() }
        let daemon = try site.site.startDaemon(notify: try NotifySocket(directory: site.site.root))
        cleanup.append { daemon.stop() }
        try site.enqueue(TestSite.laureatesEvent(id: "operator"))

        var laterID = ""
        XCTAssertTrue(try eventually {
            laterID = try site.waiting()["later@example.org"]?["id"] as? String ?? ""
            let refused = try site.problems()["refused@example.org"]
            return !laterID.isEmpty && refused != nil
        }, daemon.output)
        let report = try site.status()
        XCTAssertNotNil(report["next_attempt"], "\(report)")
        let refusedID = try XCTUnwrap(try site.problems()["refused@example.org"]?["id"] as? String)

        // Hold: it may be in flight at this moment, then the hold is refused; try until it takes.
        var held = ""
        XCTAssertTrue(try eventually {
            held = try runHerold(["hold", "--config", site.configPath, "--reason", "sprawdzić adres", laterID]).stdout
            return held.hasPrefix("held 1 of 1")
        }, held)
        let heldEntry = try XCTUnwrap(try site.problems()["later@example.org"])
        XCTAssertEqual(heldEntry["state"] as? String, "held")
        XCTAssertEqual(heldEntry["reason"] as? String, "sprawdzić adres")
        let attemptsWhenHeld = heldEntry["attempts"] as? Int
        usleep(3_000_000)
        XCTAssertEqual(try site.problems()["later@example.org"]?["attempts"] as? Int, attemptsWhenHeld,
                       "a held delivery is not tried")
        let notHeld = try runHerold(["hold", "--config", site.configPath, refusedID])
        XCTAssertTrue(notHeld.stdout.hasPrefix("held 0 of 1"), notHeld.stdout)

        let released = try runHerold(["release", "--config", site.configPath, laterID])
        XCTAssertTrue(released.stdout.hasPrefix("released 1 of 1"), released.stdout + released.stderr)
        XCTAssertTrue(try eventually {
            let state = try site.waiting()["later@example.org"]?["state"] as? String
            return state == "deferred"
        }, "released and tried again:\n\(daemon.output)")

        let purged = try runHerold(["purge", "--config", site.configPath, "--all-failed"])
        XCTAssertEqual(purged.stdout, "purged 1 deliveries\n", purged.stderr)
        let counts = try site.counts()
        XCTAssertEqual(counts["failed"], 0)
        XCTAssertEqual(counts["sent"], 1)
        XCTAssertEqual(counts.values.reduce(0, +), 2, "\(counts)")
        XCTAssertEqual(try runHerold(["purge", "--config", site.configPath]).status, 64, "ids or --all-failed")
    }
}
