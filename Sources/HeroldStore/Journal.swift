import Foundation
import GRDB
import HeroldCore

/// The journal: every accepted event and every delivery it causes, with each attempt,
/// in `journal.sqlite` in the state folder. Safe to open from several processes at once
/// (the daemon and CLI commands): WAL mode, and writers wait up to `busyTimeout` for
/// each other.
///
/// Durability: `synchronous=FULL`, so once `record` returns, the events and deliveries
/// survive a power cut and the spool file may be removed.
///
/// The async methods run on GRDB's own dispatch queues, not on the cooperative pool. Like
/// GRDB, they throw `CancellationError` (unwrapped) when the calling task is cancelled
/// before the transaction commits; everything else is a `JournalError`.
public final class Journal: Sendable {
    /// The SQLite file's name in the state folder.
    public static let fileName = "journal.sqlite"
    /// How long a write waits for another process's write to finish.
    public static let busyTimeout: TimeInterval = 5

    /// The page cache of each reading connection, in KiB (SQLite's default is 2,000).
    static let readerCacheKiB = 256

    /// The journal file.
    public let path: String
    let pool: DatabasePool
    /// Told how long each committed write took (see `CommitObserver`).
    private let onCommit: CommitObserver?

    /// Called after each committed write with the seconds from asking to write to the
    /// commit (waiting for other writers included), and whether the commit waited for the
    /// disk (`synchronous=FULL`). For metrics; it must be quick.
    public typealias CommitObserver = @Sendable (_ seconds: TimeInterval, _ synced: Bool) -> Void

    /// Opens (creating if needed) `directory/journal.sqlite` and brings its schema up to
    /// date. The journal holds every message to every person, so it is private to herold:
    /// the folder is created with mode 0700 and the file with 0600 (SQLite gives its -wal
    /// and -shm files the same mode), and wider modes left by an older version are narrowed.
    public init(directory: URL, onCommit: CommitObserver? = nil) throws {
        self.onCommit = onCommit
        let file = directory.appendingPathComponent(Self.fileName).path
        self.path = file
        do {
            let manager = FileManager.default
            if !manager.fileExists(atPath: directory.path) {
                try manager.createDirectory(at: directory, withIntermediateDirectories: true,
                                            attributes: [.posixPermissions: 0o700])
            }
            if !manager.fileExists(atPath: file) {
                guard manager.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw JournalError(kind: .transient, file: file, operation: "create the journal",
                                       message: "cannot create the file")
                }
            }
            try Self.makePrivate(directory: directory, file: file)
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(kind: .transient, file: file, operation: "create the journal folder",
                               message: "\(error)")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.label = "herold.journal"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Freed space is zeroed, so erased personal data leaves no copy in the file.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // Readers keep a small page cache: their big reads (counts, metrics, status)
            // scan more than SQLite's default 2 MB would hold, and any commit empties it, so
            // the default only grew each reader by 2 MB on a large journal. The writer keeps it.
            if db.configuration.readonly { try db.execute(sql: "PRAGMA cache_size = -\(Self.readerCacheKiB)") }
        }
        do {
            pool = try DatabasePool(path: file, configuration: configuration)
            try JournalSchema.migrator.migrate(pool)
        } catch {
            throw JournalError(wrapping: error, file: file, operation: "open the journal")
        }
    }

    /// Narrows the modes of the journal's files (and of the folder, when it is ours) that
    /// group or others could read: 0600 and 0700.
    private static func makePrivate(directory: URL, file: String) throws {
        let manager = FileManager.default
        for path in [file, file + "-wal", file + "-shm"] where manager.fileExists(atPath: path) {
            let mode = (try manager.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
            if mode & 0o077 != 0 { try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path) }
        }
        let attributes = try manager.attributesOfItem(atPath: directory.path)
        let mode = (attributes[.posixPermissions] as? Int) ?? 0
        let owner = (attributes[.ownerAccountID] as? NSNumber)?.uint32Value
        if mode & 0o077 != 0, owner == getuid() {
            try manager.setAttributes([.posixPermissions: mode & 0o700], ofItemAtPath: directory.path)
        }
    }

    /// Closes the database connections; later calls fail.
    public func close() throws {
        do {
            try pool.close()
        } catch {
            throw JournalError(wrapping: error, file: path, operation: "close the journal")
        }
    }

    // MARK: - Events

    /// Whether the event `(source, id)` has been recorded before.
    public func contains(_ key: EventKey) async throws -> Bool {
        try await read("look up event \(key)") { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE source = ? AND id = ?)",
                              arguments: [key.source, key.id]) ?? false
        }
    }

    /// Which of `keys` have been recorded before, in one read.
    public func recorded(among keys: [EventKey]) async throws -> Set<EventKey> {
        guard !keys.isEmpty else { return [] }
        return try await read("look up \(keys.count) event(s)") { db in
            let statement = try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM events WHERE source = ? AND id = ?)")
            var found: Set<EventKey> = []
            for key in keys where try Bool.fetchOne(statement, arguments: [key.source, key.id]) ?? false {
                found.insert(key)
            }
            return found
        }
    }

    /// Records events and their deliveries in one transaction (all or nothing). Events
    /// already recorded are skipped with their deliveries. Returns the keys newly recorded.
    public func record(_ batch: [(event: CloudEvent, deliveries: [Delivery])],
                       receivedAt: Date) async throws -> [EventKey] {
        try await write("record \(batch.count) event(s)") { db in
            var recorded: [EventKey] = []
            for (event, deliveries) in batch {
                guard try Self.insert(event, receivedAt: receivedAt, in: db) else { continue }
                recorded.append(event.key)
                for delivery in deliveries {
                    guard delivery.event == event.key else {
                        throw JournalError(kind: .invalid, file: "", operation: "",
                                           message: "delivery \(delivery.id) belongs to event \(delivery.event), not \(event.key)")
                    }
                    try Self.insert(delivery, createdAt: receivedAt, in: db)
                }
            }
            return recorded
        }
    }

    // MARK: - The scheduler's side

    /// Takes up to `limit` pending or deferred deliveries due at `now`, earliest first,
    /// marks them in flight and counts the attempt; returns them in their new state.
    /// Expired ones are failed instead and left out (see `claim`).
    public func claimDue(now: Date, limit: Int) async throws -> [Delivery] {
        try await claim(now: now, limit: limit).claimed
    }

    /// When the next pending or deferred delivery becomes due; nil when none waits.
    public func nextDue() async throws -> Date? {
        try await read("find the next due delivery") { db in
            try Double.fetchOne(db, sql: """
                SELECT MIN(not_before) FROM deliveries WHERE state IN ('pending', 'deferred')
                """).map(Date.init(timeIntervalSince1970:))
        }
    }

    /// On start: deliveries left in flight by a crash go back to pending (at-least-once).
    /// Returns how many.
    public func recoverInflight() async throws -> Int {
        try await write("recover in-flight deliveries") { db in
            try db.execute(sql: """
                UPDATE deliveries SET state = 'pending'
                WHERE state IN (\(Self.sqlStates(DeliveryLifecycle.sources(of: .recover))))
                """)
            return db.changesCount
        }
    }

    // MARK: - The operator's side

    /// How many deliveries are in each state (every state present, zero if none).
    public func counts() async throws -> [DeliveryState: Int] {
        try await read("count deliveries") { db in
            var counts = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state") {
                let text: String = row["state"]
                guard let state = DeliveryState(rawValue: text) else {
                    throw JournalError(kind: .corrupt, file: "", operation: "",
                                       message: "deliveries have an unknown state \(text)")
                }
                counts[state] = row["n"]
            }
            return counts
        }
    }

    /// Deliveries in the given states, earliest `notBefore` first.
    public func deliveries(in states: Set<DeliveryState>, limit: Int) async throws -> [Delivery] {
        try await read("list deliveries") { db in
            let stateList = states.map(\.rawValue).sorted()
            guard !stateList.isEmpty else { return [] }
            let marks = Array(repeating: "?", count: stateList.count).joined(separator: ", ")
            var arguments = StatementArguments(stateList)
            arguments += [max(0, limit)]
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.deliveryColumns) FROM deliveries WHERE state IN (\(marks))
                ORDER BY not_before, created_at, id LIMIT ?
                """, arguments: arguments).map(Self.delivery(from:))
        }
    }

    /// One delivery, or nil.
    public func delivery(_ id: DeliveryID) async throws -> Delivery? {
        try await read("look up delivery \(id)") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.deliveryColumns) FROM deliveries WHERE id = ?",
                             arguments: [id.rawValue]).map(Self.delivery(from:))
        }
    }

    /// Every attempt of a delivery, oldest first.
    public func attempts(for id: DeliveryID) async throws -> [Attempt] {
        try await read("list attempts of \(id)") { db in
            try Row.fetchAll(db, sql: """
                SELECT delivery_id, at, outcome, code, message FROM attempts WHERE delivery_id = ? ORDER BY at, rowid
                """, arguments: [id.rawValue]).map(Self.attempt(from:))
        }
    }

    /// Puts failed or held deliveries back to pending, due no earlier than `now`, with a
    /// fresh attempt count (their attempt history stays). Returns how many changed.
    public func requeue(_ ids: [DeliveryID], now: Date) async throws -> Int {
        try await resetToPending(ids, now: now, allowedBy: .requeue, operation: "requeue")
    }

    /// Puts every failed delivery back to pending (see `requeue`). Returns how many.
    public func requeueAllFailed(now: Date) async throws -> Int {
        try await write("requeue all failed deliveries") { db in
            try db.execute(sql: """
                UPDATE deliveries SET state = 'pending', reason = NULL, attempts = 0, first_attempt_at = NULL,
                    not_before = MAX(not_before, ?), updated_at = ?
                WHERE state = 'failed'
                """, arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    // MARK: - Plumbing

    /// A PRAGMA's value as this journal's connections see it (for diagnostics and tests).
    func pragma(_ name: String) async throws -> String? {
        try await read("read PRAGMA \(name)") { db in
            try String.fetchOne(db, sql: "PRAGMA \(name)")
        }
    }

    static func update(_ id: DeliveryID, in db: Database, sql: String, arguments: StatementArguments) throws {
        try db.execute(sql: sql, arguments: arguments)
        guard db.changesCount > 0 else {
            throw JournalError(kind: .notFound, file: "", operation: "", message: "no delivery \(id)")
        }
    }

    /// A durable write: `synchronous=FULL`, so once it returns the commit survives a power
    /// cut (ingest relies on it before a spool file goes).
    func write<T: Sendable>(_ operation: String,
                            _ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await transaction(operation, synchronous: "FULL", updates)
    }

    /// A write that is durable against a crash of the process but waits for no fsync:
    /// `synchronous=NORMAL` for this one transaction (WAL mode: the commit is in the WAL
    /// file, which the OS keeps if herold dies; only a power cut can lose it). For delivery
    /// outcomes, where a lost record means a repeat with the same id, not a lost message —
    /// and the window between a server's "250 OK" and the record shrinks from an fsync to a
    /// write. The next FULL commit (every ingest) fsyncs the WAL, and these commits with it.
    func writeWithoutWaitingForDisk<T: Sendable>(_ operation: String,
                                                 _ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await transaction(operation, synchronous: "NORMAL", updates)
    }

    /// One immediate transaction on the writer connection with its own `synchronous` mode,
    /// set before it begins: every write says how durable it must be, so no mode is left
    /// behind for the next one to restore.
    private func transaction<T: Sendable>(_ operation: String, synchronous: StaticString,
                                          _ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let start = ContinuousClock.now
        do {
            let result = try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try updates(db)
                    return .commit
                }
                guard let result else { throw JournalError(kind: .invalid, file: "", operation: operation, message: "no result") }
                return result
            }
            committed(since: start, synced: synchronous.description == "FULL")
            return result
        } catch let error as CancellationError {
            throw error
        } catch let error as JournalError {
            throw error
        } catch {
            throw JournalError(wrapping: error, file: path, operation: operation)
        }
    }

    private func committed(since start: ContinuousClock.Instant, synced: Bool) {
        guard let onCommit else { return }
        let elapsed = (ContinuousClock.now - start).components
        onCommit(Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18, synced)
    }

    func read<T: Sendable>(_ operation: String,
                                   _ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(value)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw JournalError(wrapping: error, file: path, operation: operation)
        }
    }
}
