import Foundation
import HeroldConfig
import XCTest

/// The config keys for richer messages: attachments, relay login, headers, key rotation,
/// recipients with personal data.
final class MessageOptionsConfigTests: XCTestCase {
    static let file = "/srv/herold/herold.yaml"

    func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigErrors) -> HeroldConfig {
        try ConfigLoader.load(text: yaml, file: Self.file, environment: environment)
    }

    func issues(_ yaml: String, environment: [String: String] = [:], line: UInt = #line) -> [ConfigIssue] {
        do {
            _ = try load(yaml, environment: environment)
            XCTFail("expected the config to be refused", line: line)
            return []
        } catch {
            return error.issues
        }
    }

    static let full = """
        smtp:
          url: smtps://smtp.example.org:465
          from: "Powiadomienia <powiadomienia@example.org>"
          username: konto@example.org
          auth: xoauth2
          token_file: $CREDENTIALS_DIRECTORY/smtp-token
          reply_to: "Sekretariat Łódź <sekretariat@example.org>"
          sender: nadawca@example.org
          max_connections: 3
        attachments:
          roots: [./zalaczniki, /srv/wspolne]
          max_bytes: 2048
        webhooks:
          hub:
            url: https://hub.example.org/hook
            secret_file: secrets/hub.whsec
            previous_secret_file: secrets/hub.old.whsec
            headers: { X-Zrodlo: herold, X-Region: malopolska }
        recipients:
          partners:
            - address: dyrektor@example.org
              name: Anna Nowak
              institution: MOPS w Łodzi
              salutation: Szanowna Pani Dyrektor
              stanowisko: dyrektor
            - "KWP <kwp@example.org>"
        rules:
          - name: gala
            match: { type: ceremony.scheduled }
            send:
              - email: { to: [partners, data.odbiorcy], template: t, attach: [program-gali.pdf, gala/plan.pdf], list_unsubscribe: "<mailto:wypisz@example.org>, <https://example.org/u>" }
              - webhook: { endpoint: hub }

        """

    func testEveryNewKeyIsRead() throws {
        let config = try load(Self.full, environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/herold.service"])
        XCTAssertEqual(config.smtp?.auth, .xoauth2)
        XCTAssertEqual(config.smtp?.tokenFile?.path, "/run/credentials/herold.service/smtp-token")
        XCTAssertEqual(config.smtp?.replyTo?.description, "Sekretariat Łódź <sekretariat@example.org>")
        XCTAssertEqual(config.smtp?.sender?.address, "nadawca@example.org")
        XCTAssertEqual(config.smtp?.maxConnections, 3)
        XCTAssertEqual(config.attachments.roots.map(\.path), ["/srv/herold/zalaczniki", "/srv/wspolne"])
        XCTAssertEqual(config.attachments.maxBytes, 2048)
        let hub = try XCTUnwrap(config.webhooks["hub"])
        XCTAssertEqual(hub.previousSecretFile?.path, "/srv/herold/secrets/hub.old.whsec")
        XCTAssertEqual(hub.headers, [ExtraHeader(name: "X-Zrodlo", value: "herold"), ExtraHeader(name: "X-Region", value: "malopolska")])
        XCTAssertEqual(config.recipients["partners"], ["\"Anna Nowak\" <dyrektor@example.org>", "KWP <kwp@example.org>"])
        XCTAssertEqual(config.recipientDetails["dyrektor@example.org"],
                       RecipientDetails(name: "Anna Nowak", institution: "MOPS w Łodzi", salutation: "Szanowna Pani Dyrektor",
                                        extra: ["stanowisko": "dyrektor"]))
        XCTAssertEqual(config.rules.first?.emailOptions[0],
                       EmailOptions(attach: ["program-gali.pdf", "gala/plan.pdf"],
                                    listUnsubscribe: "<mailto:wypisz@example.org>, <https://example.org/u>"))
        XCTAssertNil(config.rules.first?.emailOptions[1])
        XCTAssertEqual(config.rules.first?.send.first, .email(to: ["partners", "data.odbiorcy"], template: "t"))
    }

    func testDefaultsWithoutTheNewKeys() throws {
        let config = try load("""
            smtp:
              outbox: ./outbox
              from: a@example.org
            """)
        XCTAssertEqual(config.attachments, AttachmentsConfig())
        XCTAssertEqual(config.attachments.maxBytes, 10 << 20)
        XCTAssertNil(config.smtp?.auth)
        XCTAssertNil(config.smtp?.replyTo)
        XCTAssertEqual(config.smtp?.maxConnections, 1)
    }

    func testMistakesAreReportedWithTheirLine() {
        let cases: [(String, String, String)] = [
            (Self.full.replacingOccurrences(of: "auth: xoauth2", with: "auth: oauth"), "not one of plain, login, xoauth2", "auth: oauth"),
            (Self.full.replacingOccurrences(of: "X-Zrodlo: herold", with: "webhook-id: x"), "set by herold itself", "webhook-id"),
            (Self.full.replacingOccurrences(of: "X-Zrodlo: herold", with: "X-Zrodlo: \"a\\r\\nX-Evil: 1\""), "control character", "X-Zrodlo"),
            (Self.full.replacingOccurrences(of: "program-gali.pdf,", with: "../etc/passwd,"), "contains \"..\"", "attach"),
            (Self.full.replacingOccurrences(of: "program-gali.pdf,", with: "/etc/passwd,"), "absolute path", "attach"),
            (Self.full.replacingOccurrences(of: "\"<mailto:wypisz@example.org>, <https://example.org/u>\"", with: "wypisz@example.org"),
             "list_unsubscribe", "list_unsubscribe"),
            (Self.full.replacingOccurrences(of: "  auth: xoauth2\n", with: ""), "token_file is only used with auth: xoauth2", "smtp:"),
            (Self.full.replacingOccurrences(of: "    - address: dyrektor@example.org\n", with: "    - adres: dyrektor@example.org\n"),
             "missing required key \"address\"", "adres"),
            (Self.full.replacingOccurrences(of: "max_bytes: 2048", with: "max_bytes: lots"), "whole number", "max_bytes"),
        ]
        for (yaml, message, lineText) in cases {
            let found = issues(yaml, environment: ["CREDENTIALS_DIRECTORY": "/run/c"])
            XCTAssertEqual(found.count, 1, "\(message): \(found)")
            guard let issue = found.first else { continue }
            XCTAssertTrue(issue.message.contains(message), "\(message): \(issue)")
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertTrue(issue.line > 0 && lines[issue.line - 1].contains(lineText), "\(message): line \(issue.line): \(issue)")
            XCTAssertNotNil(issue.fix)
        }
    }

    func testAttachWithoutRootsIsRefused() {
        let yaml = Self.full.replacingOccurrences(of: "attachments:\n  roots: [./zalaczniki, /srv/wspolne]\n  max_bytes: 2048\n", with: "")
        let found = issues(yaml, environment: ["CREDENTIALS_DIRECTORY": "/run/c"])
        XCTAssertTrue(found.contains { $0.message.contains("no attachments.roots") }, "\(found)")
    }

    func testCheckFindsMissingFilesTheOptionsName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herold-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("zalaczniki"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("program".utf8).write(to: folder.appendingPathComponent("zalaczniki/program-gali.pdf"))
        try Data("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".utf8).write(to: folder.appendingPathComponent("hub.whsec"))
        try Data("nie-sekret".utf8).write(to: folder.appendingPathComponent("hub.old.whsec"))
        let yaml = Self.full
            .replacingOccurrences(of: "$CREDENTIALS_DIRECTORY/smtp-token", with: "smtp-token")
            .replacingOccurrences(of: "secrets/hub", with: "hub")
        let config = try ConfigLoader.load(text: yaml, file: folder.appendingPathComponent("herold.yaml").path, environment: [:])
        let messages = ConfigLoader.checkFiles(config).map(\.message)
        XCTAssertTrue(messages.contains { $0.contains("attachments.roots[1]: /srv/wspolne is not a folder") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("\"gala/plan.pdf\" is in none of attachments.roots") }, "\(messages)")
        XCTAssertFalse(messages.contains { $0.contains("program-gali.pdf") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("smtp.token_file") }, "\(messages)")
        XCTAssertTrue(messages.contains { $0.contains("previous_secret_file") && $0.contains("whsec_") }, "\(messages)")
        XCTAssertEqual(messages.count, 4, "\(messages)")
    }
}
