import Foundation
import HeroldCore
import HeroldStore
import PostgresNIO

/// Ingest on any node: events and their deliveries in one transaction, `(source, id)` once.
extension PostgresJournal {
    /// Whether the event `(source, id)` has been recorded before (by any node).
    public func contains(_ key: EventKey) async throws -> Bool {
        try await read("look up event \(key)") { connection in
            try await self.value("SELECT EXISTS (SELECT 1 FROM events WHERE source = \(key.source) AND id = \(key.id))",
                                 as: Bool.self, on: connection) ?? false
        }
    }

    /// Records events and their deliveries in one transaction (all or nothing); events
    /// already recorded — here, by another node, or earlier in the batch — are skipped with
    /// their deliveries. Each newly recorded event that replaces earlier ones ends their
    /// pending, deferred or held deliveries as `failed` with `event.replacementReason`.
    /// Returns the keys newly recorded and the ids of the deliveries ended.
    public func recordReplacing(_ batch: [(event: CloudEvent, deliveries: [Delivery])],
                                receivedAt: Date) async throws -> (recorded: [EventKey], replaced: [DeliveryID]) {
        let batch = batch.map { Planned(event: $0.event, deliveries: $0.deliveries) }
        return try await transaction("record \(batch.count) event(s)") { connection in
            try await self.lockKeys(of: batch.map(\.event.key), on: connection)
            var recorded: [EventKey] = []
            var replaced: [DeliveryID] = []
            for (event, deliveries) in batch.map({ ($0.event, $0.deliveries) }) {
                guard try await self.insert(event, receivedAt: receivedAt, on: connection) else { continue }
                recorded.append(event.key)
                if event.replacesEarlier {
                    replaced += try await self.cancelPending(of: event, at: receivedAt, on: connection)
                }
                if let stray = deliveries.first(where: { $0.event != event.key }) {
                    throw JournalError(kind: .invalid, file: "", operation: "",
                                       message: "delivery \(stray.id) belongs to event \(stray.event), not \(event.key)")
                }
                try await self.insert(deliveries, createdAt: receivedAt, on: connection)
            }
            return (recorded, replaced)
        }
    }

    /// When the first event was recorded (herold was in service since); nil for a new journal.
    public func firstReceivedAt() async throws -> Date? {
        try await read("find the first event") { connection in
            try await self.value("SELECT MIN(received_at) FROM events", as: Double.self, on: connection).map(Self.date)
        }
    }

    /// Takes a transaction lock on each event key of the batch, in one order for every
    /// node (sorted by its hash), before anything is inserted: two nodes ingesting the same
    /// events in different orders then wait for each other instead of deadlocking, and the
    /// second finds the first's events already there.
    private func lockKeys(of keys: [EventKey], on connection: PostgresConnection) async throws {
        try await connection.query("""
            SELECT pg_advisory_xact_lock(k) FROM (
                SELECT DISTINCT hashtextextended(e.source || chr(1) || e.id, 0) AS k
                FROM unnest(\(keys.map(\.source))::text[], \(keys.map(\.id))::text[]) AS e(source, id)
                ORDER BY k) AS ordered
            """, logger: logger)
    }

    /// Ends the pending, deferred or held deliveries of earlier events with the same source,
    /// type and subject as `event`, as `failed` with its replacement reason.
    private func cancelPending(of event: CloudEvent, at: Date, on connection: PostgresConnection) async throws -> [DeliveryID] {
        try await rows("""
            UPDATE deliveries SET state = 'failed', reason = \(event.replacementReason), updated_at = \(at.timeIntervalSince1970)
            WHERE state IN ('pending', 'deferred', 'held') AND event_source = \(event.source) AND event_id IN
                (SELECT id FROM events WHERE source = \(event.source) AND type = \(event.type)
                    AND subject = \(event.subject ?? "") AND id <> \(event.id))
            RETURNING id
            """, on: connection).map { DeliveryID(rawValue: try $0["id"].decode(String.self)) }
    }
}

/// One event of a batch with its deliveries, as a Sendable value.
struct Planned: Sendable {
    var event: CloudEvent
    var deliveries: [Delivery]
}
