import Foundation
import HeroldCore
import HeroldStore
import Logging
import PostgresNIO

/// The journal in PostgreSQL, shared by several herold nodes: the same tables, states and
/// rules as the SQLite `Journal`, so either node can be stopped, crash or be upgraded while
/// the others go on.
///
/// - Claims: due deliveries are taken with `SELECT … FOR UPDATE SKIP LOCKED` in one
///   transaction, so two nodes never take the same delivery; each is held under a lease
///   (`lease_node`, `lease_until = now + lease`). A live node renews its leases
///   (`renewLeases`); when a node dies, another takes its in-flight deliveries up again once
///   their lease has run out, with the same delivery ids (at-least-once, as after a crash).
/// - Ingest: `(source, id)` is the events' primary key, inserted with `ON CONFLICT DO
///   NOTHING`, so the same event dropped on two nodes at once becomes one event with one
///   set of deliveries; the second node sees a duplicate.
/// - Connections: a few `PostgresConnection`s of its own (see `PostgresConnections`), not
///   postgres-nio's `PostgresClient` pool, so that a refused or lost connection fails the
///   operation at once as a transient `JournalError` (the daemon's backoff decides when to
///   try again) and no background task has to be run and stopped.
/// - Durability: ingest, operator commands and retention commit with the server's
///   `synchronous_commit`; claims, outcomes and lane health with `synchronous_commit = off`
///   (like the SQLite journal's `synchronous=NORMAL`): a server crash can lose the last of
///   them, which means a repeat with the same id, never a lost message.
/// - Time: the callers' clock (`now`) decides leases as it decides due times; nodes need
///   clocks kept in step (NTP), with the lease well above their skew.
public final class PostgresJournal: DeliveryJournal, Sendable {
    /// The database URL without its password.
    public let path: String
    /// This node's stable id, written on the deliveries it holds.
    public let node: String
    /// How long a claim holds a delivery unless renewed.
    public let lease: TimeInterval
    let connections: PostgresConnections
    let logger: Logger

    private init(settings: PostgresJournalSettings, node: String, lease: TimeInterval, connections: Int,
                 logger: Logger) throws {
        self.path = settings.description
        self.node = node
        self.lease = lease
        self.logger = logger
        do {
            self.connections = PostgresConnections(configuration: try settings.connectionConfiguration(),
                                                   limit: connections, logger: logger)
        } catch {
            throw JournalError(kind: .invalid, file: settings.description, operation: "set up TLS",
                               message: "\(error)")
        }
    }

    /// Connects to the database and brings its schema up to date (safe when several nodes
    /// start at once). `node` names this node in leases (stable across restarts, e.g. the
    /// host name); `lease` is how long a claim holds a delivery unless renewed; at most
    /// `connections` are open at once.
    public static func connect(settings: PostgresJournalSettings, node: String, lease: TimeInterval = 60,
                               connections: Int = 4, logger: Logger) async throws -> PostgresJournal {
        guard !node.isEmpty else {
            throw JournalError(kind: .invalid, file: settings.description, operation: "open the journal",
                               message: "the node id is empty")
        }
        let journal = try PostgresJournal(settings: settings, node: node, lease: max(1, lease),
                                          connections: connections, logger: logger)
        do {
            let applied = try await journal.transaction("bring the schema up to date") { connection in
                try await PostgresSchema.migrate(on: connection, logger: logger)
            }
            if !applied.isEmpty {
                logger.info("journal schema migrated", metadata: ["journal": "\(journal.path)", "versions": "\(applied)"])
            }
        } catch {
            await journal.close()
            throw error
        }
        return journal
    }

    /// Closes the connections; later calls fail.
    public func close() async {
        await connections.close()
    }

    public func shutdown() async { await close() }

    // MARK: - Plumbing

    /// One transaction on a connection of its own, run again (up to 5 times) when the
    /// server reports a serialization failure or deadlock — two nodes ingesting the same
    /// events in different orders. `durable: false` commits without waiting for the WAL
    /// flush. Errors come out as `JournalError` (or `CancellationError`).
    @discardableResult
    func transaction<T: Sendable>(_ operation: String, durable: Bool = true,
                                  _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await connections.withConnection { connection in
                    try await connection.query("BEGIN", logger: logger)
                    do {
                        if !durable { try await connection.query("SET LOCAL synchronous_commit = off", logger: logger) }
                        let result = try await body(connection)
                        try await connection.query("COMMIT", logger: logger)
                        return result
                    } catch {
                        // Only a session the server still runs can roll back; any other is
                        // closed when it is given back, which ends its transaction.
                        guard PostgresFailure.isStatementError(error) else { throw error }
                        do {
                            try await connection.query("ROLLBACK", logger: logger)
                        } catch {
                            try? await connection.close()
                        }
                        throw error
                    }
                }
            } catch let error as CancellationError {
                throw error
            } catch where PostgresFailure.isRetryable(error) && attempt < 5 {
                logger.debug("journal transaction retried", metadata: ["operation": "\(operation)", "attempt": "\(attempt)"])
                continue
            } catch {
                throw PostgresFailure.journalError(error, where: path, operation: operation)
            }
        }
    }

    /// Reads outside a transaction (each statement sees the latest commits).
    func read<T: Sendable>(_ operation: String,
                           _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await connections.withConnection(body)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw PostgresFailure.journalError(error, where: path, operation: operation)
        }
    }

    /// Every row of `query`, for reading by column name.
    func rows(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    /// How many rows a statement touched: it must end in `RETURNING 1` (or any column).
    func changes(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Int {
        try await connection.query(query, logger: logger).collect().count
    }

    /// The first column of the first row (nil when there is no row or it is NULL).
    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self,
                                     on connection: PostgresConnection) async throws -> T? {
        guard let row = try await connection.query(query, logger: logger).collect().first,
              let cell = row.first else { return nil }
        return cell.bytes == nil ? nil : try cell.decode(T.self)
    }
}
