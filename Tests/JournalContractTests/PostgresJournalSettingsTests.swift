import HeroldPostgres
import XCTest

/// The journal's address, as an operator writes it in the config.
final class PostgresJournalSettingsTests: XCTestCase {
    func testURLWithoutPassword() throws {
        let settings = try PostgresJournalSettings.parse(url: "postgresql://herold@db.rops.example:5433/herold",
                                                         password: "tajne")
        XCTAssertEqual(settings, PostgresJournalSettings(host: "db.rops.example", port: 5433, username: "herold",
                                                         password: "tajne", database: "herold", tls: .disable))
        XCTAssertEqual(settings.description, "postgresql://herold@db.rops.example:5433/herold")
        XCTAssertFalse(settings.description.contains("tajne"), "the password is never shown")
    }

    func testDefaultPortAndTLS() throws {
        let settings = try PostgresJournalSettings.parse(
            url: "postgres://herold@db/herold?sslmode=require&sslrootcert=/etc/herold/ca.pem")
        XCTAssertEqual(settings.port, 5432)
        XCTAssertEqual(settings.tls, .require(caFile: "/etc/herold/ca.pem"))
        XCTAssertEqual(settings.description, "postgresql://herold@db:5432/herold?sslmode=require&sslrootcert=/etc/herold/ca.pem")
    }

    func testRefusedURLsSayWhy() {
        let cases = [
            "postgresql://herold:tajne@db/herold": "password",
            "mysql://herold@db/herold": "scheme",
            "postgresql://db/herold": "user",
            "postgresql://herold@db": "database",
            "postgresql://herold@db/herold?sslmode=prefer": "sslmode",
            "postgresql://herold@db/herold?sslrootcert=/ca.pem": "sslrootcert",
            "postgresql://herold@db/herold?timeout=5": "unknown parameter",
        ]
        for (url, word) in cases {
            XCTAssertThrowsError(try PostgresJournalSettings.parse(url: url), url) { error in
                XCTAssertTrue("\(error)".contains(word), "\(url): \(error)")
                XCTAssertFalse("\(error)".contains("tajne"), "a password never shows in an error")
            }
        }
    }
}
