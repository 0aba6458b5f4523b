import Foundation
import HeroldCore
import HeroldStore
import PostgresNIO

/// Row <-> model conversions, kept apart from the queries (the same columns and JSON as
/// the SQLite journal's, so a journal copied from one to the other reads the same).
extension PostgresJournal {
    static let deliveryColumns = """
        id, event_source, event_id, rule, action, channel, recipient, not_before, state,
        payload, reason, attempts, expires_at
        """

    /// `'a', 'b'` for an SQL `IN (...)`; the names are the enum's own, never input.
    static func sqlStates(_ states: Set<DeliveryState>) -> String {
        states.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
    }

    static let claimable = sqlStates(DeliveryLifecycle.sources(of: .claim))

    static func corrupt(_ message: String) -> JournalError {
        JournalError(kind: .corrupt, file: "", operation: "", message: message)
    }

    static func delivery(from row: PostgresRandomAccessRow) throws -> Delivery {
        let id = try row["id"].decode(String.self)
        let channelText = try row["channel"].decode(String.self)
        let stateText = try row["state"].decode(String.self)
        guard let channel = Channel(rawValue: channelText) else {
            throw corrupt("delivery \(id) has an unknown channel \(channelText)")
        }
        guard let state = DeliveryState(rawValue: stateText) else {
            throw corrupt("delivery \(id) has an unknown state \(stateText)")
        }
        return Delivery(
            id: DeliveryID(rawValue: id),
            event: EventKey(source: try row["event_source"].decode(String.self), id: try row["event_id"].decode(String.self)),
            rule: try row["rule"].decode(String.self),
            action: try row["action"].decode(Int.self),
            channel: channel,
            recipient: try row["recipient"].decode(String.self),
            notBefore: try date(row["not_before"].decode(Double.self)),
            state: state,
            payload: try payload(row["payload"].decode(String?.self), of: id),
            reason: try row["reason"].decode(String?.self),
            attempts: try row["attempts"].decode(Int.self),
            expiresAt: try row["expires_at"].decode(Double?.self).map(date)
        )
    }

    static func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }

    static func payload(_ json: String?, of id: String) throws -> DeliveryPayload? {
        guard let json else { return nil }
        do {
            return try JSONDecoder().decode(DeliveryPayload.self, from: Data(json.utf8))
        } catch {
            throw corrupt("delivery \(id) has an unreadable payload: \(error)")
        }
    }

    static func payloadJSON(_ payload: DeliveryPayload?) throws -> String? {
        guard let payload else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(payload), as: UTF8.self)
    }

    static func attempt(from row: PostgresRandomAccessRow) throws -> Attempt {
        let outcomeText = try row["outcome"].decode(String.self)
        guard let outcome = AttemptOutcome(rawValue: outcomeText) else {
            throw corrupt("an attempt has an unknown outcome \(outcomeText)")
        }
        return Attempt(deliveryID: DeliveryID(rawValue: try row["delivery_id"].decode(String.self)),
                       at: date(try row["at"].decode(Double.self)), outcome: outcome,
                       code: try row["code"].decode(String?.self), message: try row["message"].decode(String?.self))
    }

    static func state(_ text: String) throws -> DeliveryState {
        guard let state = DeliveryState(rawValue: text) else { throw corrupt("deliveries have an unknown state \(text)") }
        return state
    }

    /// Inserts the events (each key once) in one statement, those whose `(source, id)` is
    /// there already (recorded here or by another node, even one whose transaction is still
    /// open: the insert waits for it) skipped. Returns the keys that are new.
    func insert(_ events: [CloudEvent], receivedAt: Date, on connection: PostgresConnection) async throws -> Set<EventKey> {
        guard !events.isEmpty else { return [] }
        let bodies = events.map { String(decoding: $0.structuredJSON(), as: UTF8.self) }
        var new: Set<EventKey> = []
        for try await (source, id) in try await connection.query("""
            INSERT INTO events (source, id, type, subject, "time", received_at, body)
            SELECT source, id, type, subject, "time", \(receivedAt.timeIntervalSince1970), body
            FROM unnest(\(events.map(\.source))::text[], \(events.map(\.id))::text[], \(events.map(\.type))::text[],
                        \(PostgresNullableArray(events.map(\.subject)))::text[], \(PostgresNullableArray(events.map(\.time)))::text[],
                        \(bodies)::text[]) AS e(source, id, type, subject, "time", body)
            ON CONFLICT (source, id) DO NOTHING RETURNING source, id
            """, logger: logger).decode((String, String).self) {
            new.insert(EventKey(source: source, id: id))
        }
        return new
    }

    /// Inserts deliveries, one statement to 1,000 (each column an array parameter).
    func insert(_ deliveries: [Delivery], createdAt: Date, on connection: PostgresConnection) async throws {
        let now = createdAt.timeIntervalSince1970
        for start in stride(from: 0, to: deliveries.count, by: 1000) {
            let page = Array(deliveries[start..<min(start + 1000, deliveries.count)])
            let payloads = try page.map { try Self.payloadJSON($0.payload) }
            try await connection.query("""
                INSERT INTO deliveries (\(unescaped: Self.deliveryColumns), created_at, updated_at, destination)
                SELECT id, event_source, event_id, rule, action, channel, recipient, not_before, state,
                    payload, reason, attempts, expires_at, \(now), \(now), destination
                FROM unnest(\(page.map(\.id.rawValue))::text[], \(page.map(\.event.source))::text[], \(page.map(\.event.id))::text[],
                            \(page.map(\.rule))::text[], \(page.map(\.action))::int8[], \(page.map(\.channel.rawValue))::text[],
                            \(page.map(\.recipient))::text[], \(page.map(\.notBefore.timeIntervalSince1970))::float8[],
                            \(page.map(\.state.rawValue))::text[], \(PostgresNullableArray(payloads))::text[],
                            \(PostgresNullableArray(page.map(\.reason)))::text[], \(page.map(\.attempts))::int8[],
                            \(PostgresNullableArray(page.map { $0.expiresAt?.timeIntervalSince1970 }))::float8[],
                            \(page.map(\.destination.rawValue))::text[])
                    AS d(id, event_source, event_id, rule, action, channel, recipient, not_before, state,
                         payload, reason, attempts, expires_at, destination)
                """, logger: logger)
        }
    }

    func insertAttempt(_ id: DeliveryID, at: Date, outcome: AttemptOutcome, code: String?, message: String?,
                       on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO attempts (delivery_id, at, outcome, code, message)
            VALUES (\(id.rawValue), \(at.timeIntervalSince1970), \(outcome.rawValue), \(code), \(message))
            """, logger: logger)
    }
}
