import Foundation
import HeroldStore
import Logging
import PostgresNIO

/// A few connections to the journal's database, opened when needed, up to `limit` at once;
/// a caller waits for a free one beyond that. A connection that failed below SQL (closed,
/// reset, timed out) is dropped, and the next caller opens a fresh one — so a restarted or
/// briefly unreachable server costs the operations that ran into it (each a transient
/// `JournalError`) and nothing more. Opening a connection fails at once when the server
/// refuses it, so the daemon hears of an outage immediately instead of after a pool's
/// timeout, and retries with its own backoff.
actor PostgresConnections {
    private let configuration: PostgresConnection.Configuration
    private let limit: Int
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var nextID = 0
    private var closed = false

    init(configuration: PostgresConnection.Configuration, limit: Int, logger: Logger) {
        self.configuration = configuration
        self.limit = max(1, limit)
        self.logger = logger
    }

    /// An open connection for one caller alone; give it back with `give`.
    func take() async throws -> PostgresConnection {
        while true {
            guard !closed else { throw PostgresJournalClosed() }
            while let connection = idle.popLast() {
                if !connection.isClosed { return connection }
                open -= 1
            }
            if open < limit {
                open += 1
                nextID += 1
                do {
                    return try await PostgresConnection.connect(configuration: configuration, id: nextID, logger: logger)
                } catch {
                    open -= 1
                    wakeOne()
                    throw error
                }
            }
            await withCheckedContinuation { waiting.append($0) }
        }
    }

    /// Returns a connection: kept for the next caller, or closed when it is `broken`.
    func give(_ connection: PostgresConnection, broken: Bool) async {
        if broken || closed || connection.isClosed {
            open -= 1
            try? await connection.close()
        } else {
            idle.append(connection)
        }
        wakeOne()
    }

    /// Closes every idle connection; those in use close when given back. Later `take`s fail.
    func close() async {
        closed = true
        let connections = idle
        idle = []
        open -= connections.count
        for connection in connections { try? await connection.close() }
        while !waiting.isEmpty { wakeOne() }
    }

    private func wakeOne() {
        if !waiting.isEmpty { waiting.removeFirst().resume() }
    }
}

/// The journal was closed (`PostgresJournal.close`) and is asked to work again.
struct PostgresJournalClosed: Error, CustomStringConvertible {
    var description: String { "the journal is closed" }
}

extension PostgresConnections {
    /// Runs `body` on a connection of its own. A connection whose error was not the server's
    /// answer to a statement (so the session may be half-done) is closed, not reused.
    @discardableResult
    nonisolated func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await take()
        do {
            let result = try await body(connection)
            await give(connection, broken: false)
            return result
        } catch {
            await give(connection, broken: !PostgresFailure.isStatementError(error))
            throw error
        }
    }
}

/// How a PostgreSQL failure reads as a `JournalError`: transient (retry later), corrupt,
/// or invalid (the request itself). Anything below SQL — refused, reset, timed out, the
/// server shutting down — is transient: the daemon keeps its spool files and retries.
enum PostgresFailure {
    /// SQLSTATE classes the server uses for requests that cannot succeed as made:
    /// data exceptions (22), constraints (23), syntax or undefined objects (42) and the like.
    static let invalidClasses: Set<String> = ["21", "22", "23", "2B", "42", "44", "0A"]
    /// Serialization failure and deadlock: the transaction may simply be run again.
    static let retryableStates: Set<String> = ["40001", "40P01"]

    static func sqlState(_ error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server else { return nil }
        return error.serverInfo?[.sqlState]
    }

    /// True when the server answered a statement with an error and the session goes on: the
    /// connection is fine. A connection exception (08…) or the server ending the session
    /// (57P…: terminated by an administrator, shutting down, idle too long) is not: the
    /// connection is dropped without another statement on it.
    static func isStatementError(_ error: any Error) -> Bool {
        if error is JournalError { return true }
        guard let state = sqlState(error) else { return false }
        return !(state.hasPrefix("08") || state.hasPrefix("57P"))
    }

    static func isRetryable(_ error: any Error) -> Bool {
        sqlState(error).map(retryableStates.contains) ?? false
    }

    static func journalError(_ error: any Error, where location: String, operation: String) -> JournalError {
        if var error = error as? JournalError {
            if error.file.isEmpty { error.file = location }
            if error.operation.isEmpty { error.operation = operation }
            return error
        }
        return JournalError(kind: kind(of: error), file: location, operation: operation, message: message(error))
    }

    static func kind(of error: any Error) -> JournalError.Kind {
        if error is PostgresDecodingError { return .corrupt }
        guard let state = sqlState(error) else { return .transient }
        if state == "XX001" || state == "XX002" { return .corrupt }
        return invalidClasses.contains(String(state.prefix(2))) ? .invalid : .transient
    }

    /// What went wrong, without the statement's values (they may hold personal data).
    static func message(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo {
            return "SQLSTATE \(info[.sqlState] ?? "?"): \(info[.message] ?? "")"
        }
        return [error.code.description, error.underlying.map { "\($0)" }].compactMap { $0 }.joined(separator: ": ")
    }
}
