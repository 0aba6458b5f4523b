import Foundation
import HeroldStore
import Logging
import PostgresNIO

/// The shared journal's schema: the SQLite journal's tables with the same columns and
/// meaning (times are DOUBLE PRECISION seconds since 1970, UTC), plus a lease on each
/// delivery in flight. Keys and names are `COLLATE "C"`: ordered by bytes, like SQLite,
/// whatever the database's locale.
///
/// One migration per change, numbered; later versions append, never edit a shipped one.
/// All pending migrations run in one transaction under `pg_advisory_xact_lock(lockKey)`,
/// so nodes starting at once apply each exactly once (the others wait, then find nothing
/// to do). A database migrated by a newer herold is refused, not downgraded.
enum PostgresSchema {
    /// "herold" in ASCII: the advisory lock held while migrating.
    static let lockKey: Int64 = 0x6865_726F_6C64

    struct Migration: Sendable {
        var version: Int
        var name: String
        var statements: [String]
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "events-deliveries-attempts-lanes-notices", statements: [
            """
            CREATE TABLE events (
                source TEXT COLLATE "C" NOT NULL,
                id TEXT COLLATE "C" NOT NULL,
                type TEXT COLLATE "C" NOT NULL,
                subject TEXT COLLATE "C",
                "time" TEXT,
                received_at DOUBLE PRECISION NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (source, id)
            )
            """,
            "CREATE INDEX events_received ON events (received_at)",
            "CREATE INDEX events_content_due ON events (received_at) WHERE body <> ''",
            "CREATE INDEX events_subject ON events (source, type, subject)",
            """
            CREATE TABLE deliveries (
                id TEXT COLLATE "C" PRIMARY KEY,
                event_source TEXT COLLATE "C" NOT NULL,
                event_id TEXT COLLATE "C" NOT NULL,
                rule TEXT COLLATE "C" NOT NULL,
                action INTEGER NOT NULL,
                channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
                recipient TEXT COLLATE "C" NOT NULL,
                destination TEXT COLLATE "C" NOT NULL,
                not_before DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION,
                state TEXT NOT NULL CHECK (state IN ('pending', 'inflight', 'sent', 'deferred', 'held', 'failed')),
                payload TEXT,
                reason TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                first_attempt_at DOUBLE PRECISION,
                last_attempt_at DOUBLE PRECISION,
                sent_at DOUBLE PRECISION,
                content_erased_at DOUBLE PRECISION,
                FOREIGN KEY (event_source, event_id) REFERENCES events (source, id)
            )
            """,
            "CREATE INDEX deliveries_destination_due ON deliveries (destination, state, not_before)",
            "CREATE INDEX deliveries_state_not_before ON deliveries (state, not_before)",
            "CREATE INDEX deliveries_event ON deliveries (event_source, event_id)",
            """
            CREATE INDEX deliveries_content_due ON deliveries (updated_at)
                WHERE content_erased_at IS NULL AND state IN ('failed', 'sent')
            """,
            "CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE state IN ('failed', 'sent')",
            "CREATE INDEX deliveries_recipient ON deliveries (lower(recipient))",
            """
            CREATE TABLE attempts (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                delivery_id TEXT COLLATE "C" NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
                at DOUBLE PRECISION NOT NULL,
                outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'failed', 'deferred')),
                code TEXT,
                message TEXT
            )
            """,
            "CREATE INDEX attempts_delivery ON attempts (delivery_id, at, seq)",
            """
            CREATE TABLE lanes (
                destination TEXT COLLATE "C" PRIMARY KEY,
                state TEXT NOT NULL CHECK (state IN ('open', 'backing-off', 'probing', 'paused')),
                until DOUBLE PRECISION,
                failures INTEGER NOT NULL DEFAULT 0,
                reason TEXT,
                updated_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE admin_summaries (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                sent_at DOUBLE PRECISION NOT NULL,
                covered INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE admin_notices (
                subject TEXT COLLATE "C" NOT NULL,
                changed_at DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (subject, changed_at)
            )
            """,
        ]),
        // The lease: which node holds a delivery in flight, and until when. Another node
        // may take it up again (same id) once `lease_until` has passed.
        Migration(version: 2, name: "leases", statements: [
            "ALTER TABLE deliveries ADD COLUMN lease_node TEXT COLLATE \"C\"",
            "ALTER TABLE deliveries ADD COLUMN lease_until DOUBLE PRECISION",
            "CREATE INDEX deliveries_lease ON deliveries (lease_node) WHERE state = 'inflight'",
        ]),
        // The key of the recipients' pseudonyms (logs, retention's kept keys, erasure), one
        // for all nodes, so that a hash made on one node matches on the other.
        Migration(version: 3, name: "shared-recipient-key", statements: [
            """
            CREATE TABLE recipient_key (
                one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
                key BYTEA NOT NULL CHECK (octet_length(key) = 32)
            )
            """,
        ]),
    ]

    /// The newest version this herold knows.
    static var latest: Int { migrations.map(\.version).max() ?? 0 }

    /// Brings the schema up to date inside the caller's transaction. Returns the versions
    /// applied now (none when another node or an earlier start did it).
    static func migrate(on connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS herold_schema (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var applied = Set<Int>()
        for try await version in try await connection.query("SELECT version FROM herold_schema", logger: logger)
            .decode(Int.self) {
            applied.insert(version)
        }
        if let newest = applied.max(), newest > latest {
            throw JournalError(kind: .invalid, file: "", operation: "",
                               message: "the schema is at version \(newest), made by a newer herold (this one knows \(latest)); upgrade this node")
        }
        var done: [Int] = []
        for migration in migrations where !applied.contains(migration.version) {
            for statement in migration.statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query("""
                INSERT INTO herold_schema (version, name) VALUES (\(migration.version), \(migration.name))
                """, logger: logger)
            done.append(migration.version)
        }
        return done
    }
}
