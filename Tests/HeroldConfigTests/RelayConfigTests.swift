import Foundation
import HeroldConfig
import HeroldCore
import XCTest

/// `smtp.helo`, `smtp.ca_file`, the TLS default, and credentials never in plain text to
/// another machine: each mistake reported at its line with a fix.
final class RelayConfigTests: XCTestCase {
    static let file = "/srv/herold/herold.yaml"

    func load(_ smtp: String) throws(ConfigErrors) -> HeroldConfig {
        try ConfigLoader.load(text: "smtp:\n" + smtp, file: Self.file, environment: [:])
    }

    /// The one issue `smtp` gives; fails the test when there is not exactly one.
    func issue(_ smtp: String, line: UInt = #line) -> ConfigIssue? {
        do {
            _ = try load(smtp)
            XCTFail("expected the config to be refused", line: line)
        } catch {
            XCTAssertEqual(error.issues.count, 1, "\(error.issues)", line: line)
            return error.issues.first
        }
        return nil
    }

    func relay(_ url: String, _ more: String = "") -> String {
        """
          url: \(url)
          from: "Powiadomienia <powiadomienia@rops.example.org>"
        \(more)
        """
    }

    func testHeloAndCAFileAreRead() throws {
        let config = try load(relay("smtp://poczta.rops.example.org:587", """
              helo: herold.rops.example.org
              ca_file: certs/rops-ca.pem
            """))
        XCTAssertEqual(config.smtp?.helo, "herold.rops.example.org")
        XCTAssertEqual(config.smtp?.caFile?.path, "/srv/herold/certs/rops-ca.pem")
        XCTAssertEqual(try load(relay("smtp://127.0.0.1:25", "  helo: \"[192.0.2.10]\"")).smtp?.helo, "[192.0.2.10]")
        XCTAssertNil(try load(relay("smtp://127.0.0.1:25")).smtp?.helo)
    }

    func testTLSDefaultIsRequiredSTARTTLSForEveryRemoteHostAndPort() throws {
        let expected: [(String, SMTPConfig.TLSMode)] = [
            ("smtp://poczta.rops.example.org:587", .starttls), ("smtp://poczta.rops.example.org:25", .starttls),
            ("smtp://poczta.rops.example.org", .starttls), ("smtp://192.0.2.25:587", .starttls),
            ("smtps://poczta.rops.example.org:465", .tls), ("smtps://poczta.rops.example.org", .tls),
            ("smtp://127.0.0.1:25", .none), ("smtp://127.0.0.2:2525", .none), ("smtp://localhost:25", .none),
            ("smtp://[::1]:25", .none),
        ]
        for (url, mode) in expected {
            XCTAssertEqual(try load(relay(url)).smtp?.tls, mode, url)
        }
    }

    func testPlainTextLoginToAnotherMachineIsRefusedAtTheTLSLine() throws {
        for credentials in ["  username: rops\n  password_file: secrets/smtp", "  username: rops\n  auth: xoauth2\n  token_file: secrets/token"] {
            let yaml = relay("smtp://poczta.rops.example.org:587", "  tls: none\n" + credentials)
            let found = try XCTUnwrap(issue(yaml))
            XCTAssertTrue(found.message.contains("unencrypted to poczta.rops.example.org"), found.message)
            XCTAssertEqual(found.line, 4, "the line of tls: none in\n\(yaml)")
            XCTAssertTrue(found.fix?.contains("tls: starttls") ?? false, "\(found)")
        }
        // On the loopback nothing leaves the machine; without a login nothing secret travels.
        XCTAssertNoThrow(try load(relay("smtp://127.0.0.1:25", "  tls: none\n  username: rops\n  password_file: secrets/smtp")))
        XCTAssertNoThrow(try load(relay("smtp://localhost:25", "  username: rops\n  password_file: secrets/smtp")))
        XCTAssertNoThrow(try load(relay("smtp://relay.lan.example.org:25", "  tls: none")))
    }

    func testBadHeloAndCAFileAreReportedWithTheirLineAndAFix() throws {
        let cases: [(String, String)] = [
            ("  helo: vm", "no dot"),
            ("  helo: \"herold rops.example.org\"", "space"),
            ("  helo: \"herold.example.org\\r\\nRCPT TO:<x@example.org>\"", "control character"),
            ("  helo: 192.0.2.10", "[192.0.2.10]"),
            ("  helo: \"[300.1.1.1]\"", "address literal"),
            ("  helo: -zly.example.org", "starting or ending with \"-\""),
            ("  helo: herold_1.example.org", "letters, digits"),
            ("  helo: herold.łódź.pl", "xn--"),
            ("  tls: none\n  ca_file: ca.pem", "only used with TLS"),
        ]
        for (line, message) in cases {
            let yaml = relay("smtp://127.0.0.1:25", line)
            let found = try XCTUnwrap(issue(yaml), line)
            XCTAssertTrue(found.message.contains(message), "\(line): \(found)")
            let lines = ("smtp:\n" + yaml).split(separator: "\n", omittingEmptySubsequences: false)
            let key = line.contains("ca_file") ? "ca_file" : "helo"
            XCTAssertTrue(lines.indices.contains(found.line - 1) && lines[found.line - 1].contains(key), "\(line): line \(found.line)")
            XCTAssertNotNil(found.fix, line)
        }
    }

    func testCheckFindsACAFileThatIsMissingOrNotPEM() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herold-relay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func check(_ caFile: String) throws -> [String] {
            let config = try ConfigLoader.load(text: "smtp:\n" + relay("smtp://poczta.rops.example.org:587", "  ca_file: \(caFile)"),
                                               file: folder.appendingPathComponent("herold.yaml").path, environment: [:])
            return ConfigLoader.checkFiles(config).map(\.message)
        }
        XCTAssertEqual(try check("brak.pem").count, 1)
        XCTAssertTrue(try check("brak.pem").first?.contains("does not exist") ?? false)
        try Data("to nie certyfikat\n".utf8).write(to: folder.appendingPathComponent("zly.pem"))
        XCTAssertTrue(try check("zly.pem").first?.contains("holds no PEM certificate") ?? false)
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        try Data(pem.utf8).write(to: folder.appendingPathComponent("ca.pem"))
        XCTAssertEqual(try check("ca.pem"), [])
    }

    func testDefaultEHLONameIsAFullyQualifiedMachineNameElseTheSendersDomain() {
        let from = Mailbox(displayName: "Powiadomienia", address: "powiadomienia@rops.example.org")
        XCTAssertEqual(EHLOName.fallback(hostName: "herold.rops.example.org", sender: from), "herold.rops.example.org")
        for host in ["vm", "localhost", "localhost.localdomain", "vm.local", nil] as [String?] {
            XCTAssertEqual(EHLOName.fallback(hostName: host, sender: from), "rops.example.org", host ?? "nil")
        }
        XCTAssertNil(EHLOName.fallback(hostName: "vm", sender: Mailbox(address: "a@łódź.pl")))
    }
}
