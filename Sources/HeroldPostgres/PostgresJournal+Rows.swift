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

    /// Inserts the event unless `(source, id)` is there already (recorded here or by
    /// another node, even one whose transaction is still open: the insert waits for it).
    /// True when it is new.
    func insert(_ event: CloudEvent, receivedAt: Date, on connection: PostgresConnection) async throws -> Bool {
        let body = String(decoding: event.structuredJSON(), as: UTF8.self)
        return try await changes("""
            INSERT INTO events (source, id, type, subject, "time", received_at, body)
            VALUES (\(event.source), \(event.id), \(event.type), \(event.subject), \(event.time),
                    \(receivedAt.timeIntervalSince1970), \(body))
            ON CONFLICT (source, id) DO NOTHING RETURNING 1
            """, on: connection) > 0
    }

    /// Inserts deliveries, many to a statement.
    func insert(_ deliveries: [Delivery], createdAt: Date, on connection: PostgresConnection) async throws {
        let now = createdAt.timeIntervalSince1970
        for start in stride(from: 0, to: deliveries.count, by: 1000) {
            var binds = PostgresBindings()
            var groups: [String] = []
            for delivery in deliveries[start..<min(start + 1000, deliveries.count)] {
                let first = binds.count
                binds.append(delivery.id.rawValue)
                binds.append(delivery.event.source)
                binds.append(delivery.event.id)
                binds.append(delivery.rule)
                binds.append(delivery.action)
                binds.append(delivery.channel.rawValue)
                binds.append(delivery.recipient)
                binds.append(delivery.notBefore.timeIntervalSince1970)
                binds.append(delivery.state.rawValue)
                binds.append(try Self.payloadJSON(delivery.payload))
                binds.append(delivery.reason)
                binds.append(delivery.attempts)
                binds.append(delivery.expiresAt?.timeIntervalSince1970)
                binds.append(now)
                binds.append(now)
                binds.append(delivery.destination.rawValue)
                groups.append("(" + (first + 1...binds.count).map { "$\($0)" }.joined(separator: ", ") + ")")
            }
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO deliveries (\(Self.deliveryColumns), created_at, updated_at, destination)
                VALUES \(groups.joined(separator: ", "))
                """, binds: binds), logger: logger)
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
