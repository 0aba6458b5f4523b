import Foundation
import HeroldStore
import Logging
import PostgresNIO
import XCTest
@testable import HeroldPostgres

/// A database of its own for one test, on the server in `HEROLD_TEST_POSTGRES_URL`
/// (scripts/test.sh starts one): created with a random name, dropped afterwards.
struct TestDatabase {
    static let variable = "HEROLD_TEST_POSTGRES_URL"
    static let hint = "run scripts/test.sh, or set HEROLD_TEST_POSTGRES_URL"
    static let logger = Logger(label: "herold.test.postgres")

    let server: PostgresJournalSettings
    let name: String
    var settings: PostgresJournalSettings { server.with(database: name) }

    /// The server's settings; fails the test (never skips it) when the variable is unset.
    static func server(file: StaticString = #filePath, line: UInt = #line) throws -> PostgresJournalSettings {
        guard let url = ProcessInfo.processInfo.environment[variable], !url.isEmpty else {
            XCTFail("no PostgreSQL server for the tests: \(hint)", file: file, line: line)
            throw MissingServer()
        }
        return try PostgresJournalSettings.parse(url: url)
    }

    static func create(file: StaticString = #filePath, line: UInt = #line) async throws -> TestDatabase {
        let server = try server(file: file, line: line)
        let name = "herold_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        do {
            try await admin(server) { try await $0.query("CREATE DATABASE \(unescaped: name)", logger: logger) }
        } catch {
            XCTFail("cannot reach the PostgreSQL server at \(server) (\(String(reflecting: error))): \(hint)", file: file, line: line)
            throw error
        }
        return TestDatabase(server: server, name: name)
    }

    func drop() async throws {
        try await Self.admin(server) { try await $0.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: Self.logger) }
    }

    /// A journal on this database as node `node`.
    func journal(node: String = "node-a", lease: TimeInterval = 60) async throws -> PostgresJournal {
        try await PostgresJournal.connect(settings: settings, node: node, lease: lease, logger: Self.logger)
    }

    /// Runs one statement on this test's database, outside any journal (to look under the hood).
    func values<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type) async throws -> [T] {
        let connection = try await PostgresConnection.connect(configuration: try settings.connectionConfiguration(), id: 1,
                                                              logger: Self.logger)
        defer { Task { try? await connection.close() } }
        var values: [T] = []
        for try await value in try await connection.query(query, logger: Self.logger).decode(T.self) { values.append(value) }
        return values
    }

    private static func admin(_ server: PostgresJournalSettings, _ body: (PostgresConnection) async throws -> Void) async throws {
        let connection = try await PostgresConnection.connect(configuration: try server.connectionConfiguration(), id: 0,
                                                              logger: logger)
        do {
            try await body(connection)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// Thrown after an XCTFail that already says what is missing: ends the test as failed.
struct MissingServer: Error, CustomStringConvertible {
    var description: String { "no PostgreSQL server: \(TestDatabase.hint)" }
}
