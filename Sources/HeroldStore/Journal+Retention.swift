import Foundation
import GRDB
import HeroldCore

/// What one retention pass did (counts only, never content).
public struct RetentionReport: Sendable, Equatable {
    /// Finished deliveries whose message, reasons and replies were erased.
    public var contentErased = 0
    /// Events whose body (their data) was erased.
    public var eventBodiesErased = 0
    /// Finished deliveries removed with their attempts (past the records period).
    public var deliveriesDeleted = 0
    /// Event keys removed (past the duplicate window).
    public var eventKeysDeleted = 0
    /// Free pages given back to the file system.
    public var pagesFreed = 0

    public init() {}

    public var isEmpty: Bool { self == RetentionReport() }
}

/// How the journal gives freed space back.
public enum SpaceReclaim: Sendable, Equatable {
    /// `auto_vacuum=INCREMENTAL` already: retention frees pages in small steps.
    case incremental
    /// The file was switched now (one VACUUM, small enough to be quick).
    case switched
    /// Too large to switch without holding deliveries up: stop herold and run
    /// `sqlite3 STATE/journal.sqlite 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM'` once.
    case tooLarge(bytes: Int)
}

/// Retention (`RetentionPolicy`): each step is many short transactions of at most
/// `batchSize` rows, so the dispatcher's claims and records wait for one batch at most.
/// Only finished deliveries (sent, failed) are touched; everything still due is left alone.
extension Journal {
    /// States retention may erase and delete: finished for good.
    static let finishedStates = "'failed', 'sent'"

    /// Runs every retention step at `now` (an injected clock in tests) until nothing is
    /// left to do, then gives the freed pages back. Email recipients of erased deliveries
    /// become `pseudonym.hash(address)`, so `history` can still find the record.
    public func applyRetention(_ policy: RetentionPolicy, now: Date, pseudonym: RecipientPseudonym,
                               batchSize: Int = 500) async throws -> RetentionReport {
        let cut = policy.cutoffs(at: now)
        let at = now.timeIntervalSince1970
        var report = RetentionReport()
        report.contentErased = try await inBatches(batchSize) { limit in
            try await self.eraseFinishedContent(before: cut.content, at: at, pseudonym: pseudonym, limit: limit)
        }
        report.eventBodiesErased = try await inBatches(batchSize) { limit in
            try await self.eraseEventBodies(before: cut.content, limit: limit)
        }
        report.deliveriesDeleted = try await inBatches(batchSize) { limit in
            try await self.deleteFinished(before: cut.records, limit: limit)
        }
        report.eventKeysDeleted = try await inBatches(batchSize) { limit in
            try await self.deleteEventKeys(before: cut.duplicates, limit: limit)
        }
        try await write("erase old lane reasons") { db in
            try db.execute(sql: "UPDATE lanes SET reason = NULL WHERE state = 'open' AND reason IS NOT NULL AND updated_at < ?",
                           arguments: [cut.content.timeIntervalSince1970])
        }
        report.pagesFreed = try await giveSpaceBack()
        return report
    }

    /// Repeats `step` (which handles at most `limit` rows and says how many) until a
    /// step comes back short.
    private func inBatches(_ limit: Int, _ step: (Int) async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            try Task.checkCancellation()
            let done = try await step(max(1, limit))
            total += done
            if done < limit { return total }
            await Task.yield()
        }
    }

    private func eraseFinishedContent(before cutoff: Date, at: Double, pseudonym: RecipientPseudonym,
                                      limit: Int) async throws -> Int {
        try await write("erase the content of finished deliveries") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, channel, recipient FROM deliveries INDEXED BY deliveries_content_due
                WHERE content_erased_at IS NULL AND state IN (\(Self.finishedStates)) AND updated_at < ?
                LIMIT ?
                """, arguments: [cutoff.timeIntervalSince1970, limit])
            for row in rows {
                let channel: String = row["channel"], recipient: String = row["recipient"]
                let kept = channel == Channel.email.rawValue && !recipient.hasPrefix(RecipientPseudonym.prefix)
                    ? pseudonym.hash(recipient) : recipient
                try Self.eraseContent(of: row["id"], recipient: kept, reason: nil, at: at, in: db)
            }
            return rows.count
        }
    }

    /// Erases a delivery's message, reason and its attempts' replies; keeps its id, state,
    /// times, channel, destination, rule and the attempts' codes.
    static func eraseContent(of id: String, recipient: String, reason: String?, at: Double, in db: Database) throws {
        guard let rowid = try Int64.fetchOne(db, sql: "SELECT rowid FROM deliveries WHERE id = ?", arguments: [id]) else { return }
        let attempts = try Row.fetchAll(db, sql: "SELECT * FROM attempts WHERE delivery_id = ? ORDER BY rowid", arguments: [id])
        try db.execute(sql: "DELETE FROM attempts WHERE delivery_id = ?", arguments: [id])
        try reinsert("deliveries", rowid: rowid, changes: [
            "payload": nil, "reason": reason, "recipient": recipient, "content_erased_at": at,
        ], in: db)
        for attempt in attempts { try insert("attempts", attempt, changes: ["message": nil], in: db) }
    }

    /// Replaces a row by a copy with `changes` applied, deleted and inserted anew: SQLite
    /// merges the pages a delete leaves nearly empty (an UPDATE that shrinks a row never
    /// does), so erased content becomes free pages `giveSpaceBack` can return. The caller
    /// defers foreign keys where other rows point at this one.
    static func reinsert(_ table: String, rowid: Int64, changes: [String: (any DatabaseValueConvertible)?],
                         in db: Database) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM \(table) WHERE rowid = ?", arguments: [rowid]) else { return }
        try db.execute(sql: "DELETE FROM \(table) WHERE rowid = ?", arguments: [rowid])
        try insert(table, row, changes: changes, in: db)
    }

    private static func insert(_ table: String, _ row: Row, changes: [String: (any DatabaseValueConvertible)?],
                               in db: Database) throws {
        let columns = Array(row.columnNames)
        let values: [(any DatabaseValueConvertible)?] = columns.map { name in
            if let change = changes[name] { return change }
            return row[name] as DatabaseValue
        }
        let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        try db.execute(sql: "INSERT INTO \(table) (\(columns.map { "\"\($0)\"" }.joined(separator: ", "))) VALUES (\(marks))",
                       arguments: StatementArguments(values))
    }

    /// Bodies of events older than `cutoff` none of whose deliveries is still to do.
    private func eraseEventBodies(before cutoff: Date, limit: Int) async throws -> Int {
        try await write("erase old event bodies") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT rowid FROM events INDEXED BY events_content_due
                WHERE body <> '' AND received_at < ? AND NOT EXISTS (
                    SELECT 1 FROM deliveries d WHERE d.event_source = events.source AND d.event_id = events.id
                        AND d.state NOT IN (\(Self.finishedStates)))
                LIMIT ?
                """, arguments: [cutoff.timeIntervalSince1970, limit])
            for row in rows {
                try Self.eraseEventBody(rowid: row["rowid"], in: db)
            }
            return rows.count
        }
    }

    /// An event keeps its key, type and times; its data and subject go.
    static func eraseEventBody(rowid: Int64, in db: Database) throws {
        // Deliveries point at the event: checked at commit, when it is back.
        try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
        try reinsert("events", rowid: rowid, changes: ["body": "", "subject": nil], in: db)
    }

    private func deleteFinished(before cutoff: Date, limit: Int) async throws -> Int {
        try await write("delete old finished deliveries") { db in
            let ids = try String.fetchAll(db, sql: """
                SELECT id FROM deliveries INDEXED BY deliveries_finished
                WHERE state IN (\(Self.finishedStates)) AND updated_at < ? LIMIT ?
                """, arguments: [cutoff.timeIntervalSince1970, limit])
            for id in ids {
                try db.execute(sql: "DELETE FROM attempts WHERE delivery_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM deliveries WHERE id = ?", arguments: [id])
            }
            return ids.count
        }
    }

    /// Keys of events older than `cutoff` with no delivery left.
    private func deleteEventKeys(before cutoff: Date, limit: Int) async throws -> Int {
        try await write("delete old event keys") { db in
            try db.execute(sql: """
                DELETE FROM events WHERE rowid IN (
                    SELECT rowid FROM events INDEXED BY events_received
                    WHERE received_at < ? AND NOT EXISTS (
                        SELECT 1 FROM deliveries d WHERE d.event_source = events.source AND d.event_id = events.id)
                    LIMIT ?)
                """, arguments: [cutoff.timeIntervalSince1970, limit])
            return db.changesCount
        }
    }

    /// Frees the file's free pages `step` at a time (each its own short transaction), when
    /// the journal is in `auto_vacuum=INCREMENTAL` mode. Returns how many pages went.
    public func giveSpaceBack(step: Int = 256) async throws -> Int {
        var freed = 0
        while true {
            let (before, after) = try await write("give free pages back") { db -> (Int, Int) in
                let before = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
                guard before > 0 else { return (0, 0) }
                try db.execute(sql: "PRAGMA incremental_vacuum(\(max(1, step)))")
                return (before, try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0)
            }
            freed += before - after
            if after == 0 || after >= before { return freed }
            await Task.yield()
        }
    }

    /// Makes sure freed space can be given back: a journal made before retention existed
    /// is switched to `auto_vacuum=INCREMENTAL` with one VACUUM if it is at most `maxBytes`
    /// (a new journal always is); a larger one is left for an operator (see `SpaceReclaim`).
    public func prepareSpaceReclaim(maxBytes: Int = 64 << 20) async throws -> SpaceReclaim {
        do {
            return try await pool.writeWithoutTransaction { db -> SpaceReclaim in
                if try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2 { return .incremental }
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                let size = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                guard pages * size <= maxBytes else { return .tooLarge(bytes: pages * size) }
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
                return .switched
            }
        } catch {
            throw JournalError(wrapping: error, file: path, operation: "switch the journal to incremental vacuum")
        }
    }

    /// Copies the WAL into the main file and truncates it to zero bytes, retrying while a
    /// reader holds it (up to `attempts` times); true when done. After an erasure this
    /// leaves no old copy of a page in `journal.sqlite-wal`.
    public func checkpoint(attempts: Int = 20) async throws -> Bool {
        for attempt in 0..<max(1, attempts) {
            let busy = try await {
                do {
                    return try await pool.writeWithoutTransaction { db in
                        try Int.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") ?? 1
                    }
                } catch {
                    throw JournalError(wrapping: error, file: path, operation: "checkpoint the journal")
                }
            }()
            if busy == 0 { return true }
            if attempt + 1 < attempts { try await Task.sleep(for: .milliseconds(250)) }
        }
        return false
    }
}
