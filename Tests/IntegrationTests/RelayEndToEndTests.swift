import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The built binary against a relay as institutions run them: STARTTLS required, a
/// certificate from a private CA (`smtp.ca_file`), AUTH required, an EHLO name it checks.
final class RelayEndToEndTests: SiteTestCase {
    static let helo = "herold.rops.example.org"

    /// An expired password pauses the relay's lane: the message waits in the queue (no dead
    /// letter, no attempt counted, no second login); once the admin writes the new one and
    /// reloads, the same delivery goes over TLS, logged in, with the EHLO name.
    func testWrongPasswordDefersAndTheFixedOneDeliversOverSTARTTLSThroughCAFile() throws {
        let ca = try makeTestCA("relay-ca")
        let mail = try makeTemporaryDirectory("relay-mail")
        cleanup.append { try? FileManager.default.removeItem(at: mail) }
        let relay = try SinkServer(script: "smtp_sink.py", directory: mail, extraArguments: [
            "--starttls", ca.appendingPathComponent("server.pem").path, ca.appendingPathComponent("server.key").path,
            "--auth", "rops:tajne-hasło", "--auth-require-tls",
        ])
        let site = try FaultSite(name: "relay", body: relaySiteBody(port: relay.port, ca: ca))
        cleanup.append { site.remove() }
        let password = site.site.root.appendingPathComponent("secrets/smtp-haslo")
        try "stare-hasło\n".write(to: password, atomically: true, encoding: .utf8)
        let check = try runHerold(["check", "--config", site.configPath])
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)

        let notify = try NotifySocket(directory: site.site.root)
        let daemon = try site.site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.enqueue(TestSite.laureatesEvent(id: "haslo-wygaslo"))
        XCTAssertTrue(try eventually(timeout: 20) {
            guard let entry = try site.waiting()["gops@example.org"] else { return false }
            return entry["state"] as? String == "pending" && (entry["reason"] as? String ?? "").contains("paused")
        }, "not waiting behind a paused lane:\n\((try? site.waiting()) ?? [:])\n\(daemon.output)")
        let waiting = try XCTUnwrap(try site.waiting()["gops@example.org"])
        XCTAssertTrue((waiting["reason"] as? String ?? "").contains("smtp.auth"), "\(waiting)")
        XCTAssertEqual(waiting["attempts"] as? Int, 0, "a refused login is not the message's attempt: \(waiting)")
        XCTAssertEqual(try site.problems().count, 0, "a refused login is no dead letter")
        XCTAssertEqual(relay.records().count, 0)

        try "tajne-hasło\n".write(to: password, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertTrue(notify.waitFor("configuration reloaded"), notify.messages.joined(separator: " | "))
        XCTAssertTrue(eventually(timeout: 20) { relay.records().count == 1 }, daemon.output)
        let record = try XCTUnwrap(relay.records().first)
        XCTAssertEqual(record["rcpt_tos"] as? [String], ["gops@example.org"])
        XCTAssertEqual(record["tls"] as? Bool, true, "over STARTTLS")
        XCTAssertEqual(record["auth_user"] as? String, "rops", "logged in")
        XCTAssertEqual(record["helo"] as? String, Self.helo)
        XCTAssertEqual(record["subject"] as? String, TestSite.expectedLaureatesSubject())
        XCTAssertTrue(eventually { (try? site.counts()["sent"]) == 1 }, "\((try? site.status()) ?? [:])")
        XCTAssertEqual(relay.records().count, 1, "sent once")
    }

    /// Without `helo`, the EHLO name is still fully qualified (a relay with
    /// `reject_non_fqdn_helo_hostname` refuses `EHLO vm`): the machine's name when it has a dot,
    /// else the domain of `from`.
    func testDefaultEHLONameIsFullyQualified() throws {
        let (site, smtp, http) = try makeSite("relay-ehlo")
        defer { withExtendedLifetime(http) {} }
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.drop(TestSite.laureatesEvent(id: "ehlo"), as: "ehlo.json")
        XCTAssertTrue(eventually { smtp.records().count == 2 }, daemon.output)
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        let machine = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for record in smtp.records() {
            let helo = record["helo"] as? String ?? ""
            XCTAssertTrue(helo == "rops.example.org" || (helo == machine && machine.contains(".")), "EHLO \(helo) on \(machine)")
        }
    }

    /// `check` refuses a password in plain text to another machine, at the line of `tls:`.
    func testCheckRefusesAPasswordInPlainTextToARemoteRelay() throws {
        let ca = try makeTestCA("relay-ca")
        let site = try FaultSite(name: "relay-plain", body: relaySiteBody(port: 587, ca: ca, tls: "none", host: "poczta.rops.example.org")
            .replacingOccurrences(of: "  ca_file: \(ca.appendingPathComponent("ca.pem").path)\n", with: ""))
        cleanup.append { site.remove() }
        try "tajne-hasło\n".write(to: site.site.root.appendingPathComponent("secrets/smtp-haslo"), atomically: true, encoding: .utf8)
        let result = try runHerold(["check", "--config", site.configPath])
        XCTAssertEqual(result.status, 78)
        let yaml = try String(contentsOfFile: site.configPath, encoding: .utf8)
        let tlsLine = (yaml.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("tls: none") } ?? -1) + 1
        let output = result.stdout + result.stderr
        XCTAssertTrue(output.contains("herold.yaml:\(tlsLine):"), output)
        XCTAssertTrue(output.contains("unencrypted to poczta.rops.example.org"), output)
        XCTAssertTrue(output.contains("tls: starttls"), output)
    }
}
