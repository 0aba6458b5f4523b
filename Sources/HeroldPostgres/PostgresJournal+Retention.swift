import Foundation
import HeroldCore
import HeroldStore
import PostgresNIO

/// Retention (`RetentionPolicy`), as the SQLite journal does it: many short transactions of
/// at most `batchSize` rows, only finished deliveries (sent, failed) touched. PostgreSQL
/// gives space back by itself: erased rows become dead tuples that autovacuum clears, so
/// the SQLite-only space steps are no-ops here.
extension PostgresJournal {
    public func applyRetention(_ policy: RetentionPolicy, now: Date, pseudonym: RecipientPseudonym,
                               batchSize: Int) async throws -> RetentionReport {
        let cut = policy.cutoffs(at: now)
        let at = now.timeIntervalSince1970
        let limit = max(1, batchSize)
        var report = RetentionReport()
        report.contentErased = try await inBatches(limit, "erase the content of finished deliveries") { connection in
            let rows = try await self.rows("""
                SELECT id, channel, recipient FROM deliveries
                WHERE content_erased_at IS NULL AND state IN ('failed', 'sent') AND updated_at < \(cut.content.timeIntervalSince1970)
                LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """, on: connection)
            var ids: [String] = [], recipients: [String] = []
            for row in rows {
                let channel = try row["channel"].decode(String.self), recipient = try row["recipient"].decode(String.self)
                ids.append(try row["id"].decode(String.self))
                recipients.append(channel == Channel.email.rawValue && !recipient.hasPrefix(RecipientPseudonym.prefix)
                    ? pseudonym.hash(recipient) : recipient)
            }
            try await self.eraseContent(ids, recipients: recipients, reason: nil, at: at, on: connection)
            return rows.count
        }
        report.eventBodiesErased = try await inBatches(limit, "erase old event bodies") { connection in
            try await self.changes("""
                UPDATE events SET body = '', subject = NULL WHERE (source, id) IN (
                    SELECT source, id FROM events e WHERE body <> '' AND received_at < \(cut.content.timeIntervalSince1970)
                        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_source = e.source AND d.event_id = e.id
                            AND d.state NOT IN ('failed', 'sent'))
                    LIMIT \(limit))
                RETURNING 1
                """, on: connection)
        }
        report.deliveriesDeleted = try await inBatches(limit, "delete old finished deliveries") { connection in
            try await self.changes("""
                DELETE FROM deliveries WHERE id IN (
                    SELECT id FROM deliveries WHERE state IN ('failed', 'sent') AND updated_at < \(cut.records.timeIntervalSince1970)
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING 1
                """, on: connection)
        }
        report.eventKeysDeleted = try await inBatches(limit, "delete old event keys") { connection in
            try await self.changes("""
                DELETE FROM events WHERE (source, id) IN (
                    SELECT source, id FROM events e WHERE received_at < \(cut.duplicates.timeIntervalSince1970)
                        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_source = e.source AND d.event_id = e.id)
                    LIMIT \(limit))
                RETURNING 1
                """, on: connection)
        }
        try await transaction("erase old lane reasons") { connection in
            try await connection.query("""
                UPDATE lanes SET reason = NULL WHERE state = 'open' AND reason IS NOT NULL
                    AND updated_at < \(cut.content.timeIntervalSince1970)
                """, logger: self.logger)
        }
        return report
    }

    /// Repeats one batch (its own transaction, which says how many rows it handled) until
    /// a batch comes back short.
    private func inBatches(_ limit: Int, _ operation: String,
                           _ step: @escaping @Sendable (PostgresConnection) async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            try Task.checkCancellation()
            let done = try await transaction(operation, step)
            total += done
            if done < limit { return total }
            await Task.yield()
        }
    }

    /// Erases deliveries' message and reason and their attempts' replies; keeps ids, states,
    /// times, channel, destination, rule and the attempts' codes; the recipient becomes the
    /// one given (its keyed hash, or `[erased]`).
    func eraseContent(_ ids: [String], recipients: [String], reason: String?, at: Double,
                      on connection: PostgresConnection) async throws {
        guard !ids.isEmpty else { return }
        try await connection.query("""
            UPDATE deliveries d SET payload = NULL, reason = \(reason), recipient = v.recipient, content_erased_at = \(at)
            FROM unnest(\(ids)::text[], \(recipients)::text[]) AS v(id, recipient) WHERE d.id = v.id
            """, logger: logger)
        try await connection.query("UPDATE attempts SET message = NULL WHERE delivery_id = ANY(\(ids))", logger: logger)
    }

    /// Nothing to do: autovacuum returns the space of erased and deleted rows.
    public func giveSpaceBack(step: Int) async throws -> Int { 0 }

    /// Always ready: PostgreSQL reuses freed space without a switch.
    public func prepareSpaceReclaim(maxBytes: Int) async throws -> SpaceReclaim { .incremental }

    /// Asks the server for a checkpoint (old WAL segments holding erased rows can then be
    /// recycled); needs superuser or `pg_checkpoint`, and reports false without it.
    public func checkpoint(attempts: Int) async throws -> Bool {
        do {
            try await connections.withConnection { connection in
                try await connection.query("CHECKPOINT", logger: self.logger)
            }
            return true
        } catch where PostgresFailure.kind(of: error) == .invalid {
            return false
        } catch {
            throw PostgresFailure.journalError(error, where: path, operation: "checkpoint the journal")
        }
    }
}
