import Foundation
import HeroldConfig
import XCTest

/// `journal:`: SQLite by default, a PostgreSQL URL (alone or with options), and every
/// mistake refused at its line without ever printing a password.
final class JournalConfigTests: XCTestCase {
    private func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigErrors) -> HeroldConfig {
        try ConfigLoader.load(text: yaml, file: "/etc/herold/herold.yaml", environment: environment)
    }

    private func refusal(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigIssue? {
        do {
            _ = try load(yaml)
            XCTFail("accepted:\n\(yaml)", file: file, line: line)
            return nil
        } catch {
            XCTAssertEqual(error.issues.count, 1, "\(error.issues)", file: file, line: line)
            return error.issues.first
        }
    }

    func testSQLiteByDefault() throws {
        XCTAssertEqual(try load("spool: ./spool\n").journal, .sqlite)
    }

    func testTheURLAloneOnTheLoopbackIsPlainTCP() throws {
        let config = try load("journal: postgresql://herold@127.0.0.1:5433/herold\n")
        let postgres = try XCTUnwrap(config.journal.postgresql)
        XCTAssertEqual(postgres.host, "127.0.0.1")
        XCTAssertEqual(postgres.port, 5433)
        XCTAssertEqual(postgres.username, "herold")
        XCTAssertEqual(postgres.database, "herold")
        XCTAssertEqual(postgres.tls, PostgresJournalConfig.TLSMode.none)
        XCTAssertNil(postgres.passwordFile)
        XCTAssertEqual(postgres.lease, 60)
        XCTAssertEqual(postgres.description, "postgresql://herold@127.0.0.1:5433/herold")
    }

    func testAMappingWithACredentialAndOptions() throws {
        let config = try load("""
            journal:
              url: postgresql://herold@db.rops.example.org/powiadomienia
              password_file: $CREDENTIALS_DIRECTORY/pg-password
              ca_file: /etc/herold/db-ca.pem
              node: herold-a
              lease: 2m
            """, environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/herold.service"])
        let postgres = try XCTUnwrap(config.journal.postgresql)
        XCTAssertEqual(postgres.port, 5432)
        XCTAssertEqual(postgres.tls, .require, "another machine: TLS by default")
        XCTAssertEqual(postgres.passwordFile?.path, "/run/credentials/herold.service/pg-password")
        XCTAssertEqual(postgres.caFile?.path, "/etc/herold/db-ca.pem")
        XCTAssertEqual(postgres.node, "herold-a")
        XCTAssertEqual(postgres.lease, 120)
    }

    func testPlainTextToAnotherMachineIsRefused() throws {
        let issue = try XCTUnwrap(refusal("""
            spool: ./spool
            journal:
              url: postgresql://herold@db.rops.example.org/herold
              tls: none
            """))
        XCTAssertEqual(issue.line, 4)
        XCTAssertTrue(issue.message.contains("unencrypted to db.rops.example.org"), issue.message)
    }

    func testAPasswordInTheURLIsRefusedAndNeverShown() throws {
        let issue = try XCTUnwrap(refusal("journal: postgresql://herold:Tajne123@db.example.org/herold\n"))
        XCTAssertEqual(issue.line, 1)
        XCTAssertTrue(issue.message.contains("holds a password"), issue.message)
        XCTAssertFalse(issue.message.contains("Tajne123"), issue.message)
        XCTAssertTrue(issue.fix?.contains("password_file") == true)
    }

    func testMistakesAreReportedAtTheirLines() throws {
        XCTAssertTrue(try XCTUnwrap(refusal("journal: mysql://herold@db/herold\n")).message.contains("is not a postgresql:// URL"))
        XCTAssertTrue(try XCTUnwrap(refusal("journal: postgresql://db.example.org/herold\n")).message.contains("names no user"))
        XCTAssertTrue(try XCTUnwrap(refusal("journal: postgresql://herold@db.example.org\n")).message.contains("names no database"))
        let unknown = try XCTUnwrap(refusal("""
            journal:
              url: postgresql://herold@localhost/herold
              leas: 30s
            """))
        XCTAssertEqual(unknown.line, 3)
        XCTAssertEqual(unknown.fix, "did you mean 'lease'? (or remove it)")
        let node = try XCTUnwrap(refusal("""
            journal:
              url: postgresql://herold@localhost/herold
              node: "węzeł 1"
            """))
        XCTAssertEqual(node.line, 3)
    }
}
