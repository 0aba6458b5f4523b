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

    /// Which of `keys` have been recorded before (by any node), in one query.
    public func recorded(among keys: [EventKey]) async throws -> Set<EventKey> {
        guard !keys.isEmpty else { return [] }
        return try await read("look up \(keys.count) event(s)") { connection in
            var found: Set<EventKey> = []
            for try await (source, id) in try await connection.query("""
                SELECT e.source, e.id FROM events e
                JOIN unnest(\(keys.map(\.source))::text[], \(keys.map(\.id))::text[]) AS k(source, id)
                    ON e.source = k.source AND e.id = k.id
                """, logger: self.logger).decode((String, String).self) {
                found.insert(EventKey(source: source, id: id))
            }
            return found
        }
    }

    /// Records events and their deliveries in one transaction (all or nothing); events
    /// already recorded — here, by another node, or earlier in the batch — are skipped with
    /// their deliveries. Each newly recorded event that replaces earlier ones ends their
    /// pending, deferred or held deliveries as `failed` with `event.replacementReason`.
    /// Returns the keys newly recorded and the ids of the deliveries ended.
    ///
    /// A few statements for the whole batch (`IngestPlan`): the keys' locks, the events,
    /// the replacements of deliveries already in the journal (if any event has a subject),
    /// and the deliveries (one statement to 1,000).
    public func recordReplacing(_ batch: [(event: CloudEvent, deliveries: [Delivery])],
                                receivedAt: Date) async throws -> (recorded: [EventKey], replaced: [DeliveryID]) {
        let batch = IngestPlan.unique(batch.map { Planned(event: $0.event, deliveries: $0.deliveries) })
        return try await transaction("record \(batch.count) event(s)") { connection in
            try await self.lockKeys(of: batch.map(\.event.key), on: connection)
            let new = try await self.insert(batch.map(\.event), receivedAt: receivedAt, on: connection)
            let plan = try IngestPlan(batch, new: new)
            let inJournal = try await self.cancelPending(of: plan.replacingJournal, at: receivedAt, on: connection)
            try await self.insert(plan.deliveries, createdAt: receivedAt, on: connection)
            return (plan.recorded, plan.replaced(inJournal: inJournal))
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

    /// Ends the pending, deferred or held deliveries of the other events with the same
    /// source, type and subject as each of `events`, as `failed` with its replacement
    /// reason, in one statement. Returns the ids ended, by the event that ended them.
    private func cancelPending(of events: [CloudEvent], at: Date,
                               on connection: PostgresConnection) async throws -> [EventKey: [DeliveryID]] {
        guard !events.isEmpty else { return [:] }
        var ended: [EventKey: [DeliveryID]] = [:]
        for try await (id, source, by) in try await connection.query("""
            UPDATE deliveries d SET state = 'failed', reason = r.reason, updated_at = \(at.timeIntervalSince1970)
            FROM unnest(\(events.map(\.source))::text[], \(events.map(\.type))::text[], \(events.map { $0.subject ?? "" })::text[],
                        \(events.map(\.id))::text[], \(events.map(\.replacementReason))::text[]) AS r(source, type, subject, id, reason),
                events e
            WHERE e.source = r.source AND e.type = r.type AND e.subject = r.subject AND e.id <> r.id
                AND d.event_source = e.source AND d.event_id = e.id
                AND d.state IN (\(unescaped: Self.sqlStates(IngestPlan.replaceable)))
            RETURNING d.id, r.source, r.id
            """, logger: logger).decode((String, String, String).self) {
            ended[EventKey(source: source, id: by), default: []].append(DeliveryID(rawValue: id))
        }
        return ended
    }
}

/// One event of a batch with its deliveries, as a Sendable value.
struct Planned: Sendable {
    var event: CloudEvent
    var deliveries: [Delivery]
}
