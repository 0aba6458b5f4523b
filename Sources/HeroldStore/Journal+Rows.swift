import Foundation
import GRDB
import HeroldCore

/// Row <-> model conversions, kept apart from the queries.
extension Journal {
    static let deliveryColumns = """
        id, event_source, event_id, rule, action, channel, recipient, not_before, state,
        payload, reason, attempts, expires_at
        """

    /// Where each of `deliveryColumns` is in a row that selects them first (by position: a
    /// lookup by name costs a lowercased copy and a hash of the name per column and row).
    enum DeliveryColumn {
        static let id = 0, eventSource = 1, eventID = 2, rule = 3, action = 4, channel = 5, recipient = 6,
                   notBefore = 7, state = 8, payload = 9, reason = 10, attempts = 11, expiresAt = 12
        /// The first column after them.
        static let end = 13
    }

    /// A delivery from a row whose first columns are `deliveryColumns`, in their order.
    static func delivery(from row: Row) throws -> Delivery {
        typealias C = DeliveryColumn
        let id: String = row[C.id]
        let channelText: String = row[C.channel]
        let stateText: String = row[C.state]
        guard let channel = Channel(rawValue: channelText) else {
            throw JournalError(kind: .corrupt, file: "", operation: "",
                               message: "delivery \(id) has an unknown channel \(channelText)")
        }
        guard let state = DeliveryState(rawValue: stateText) else {
            throw JournalError(kind: .corrupt, file: "", operation: "",
                               message: "delivery \(id) has an unknown state \(stateText)")
        }
        var payload: DeliveryPayload?
        if let json: String = row[C.payload] {
            do {
                payload = try DeliveryPayload(journalJSON: json)
            } catch {
                throw JournalError(kind: .corrupt, file: "", operation: "",
                                   message: "delivery \(id) has an unreadable payload: \(error)")
            }
        }
        return Delivery(
            id: DeliveryID(rawValue: id),
            event: EventKey(source: row[C.eventSource], id: row[C.eventID]),
            rule: row[C.rule],
            action: row[C.action],
            channel: channel,
            recipient: row[C.recipient],
            notBefore: Date(timeIntervalSince1970: row[C.notBefore]),
            state: state,
            payload: payload,
            reason: row[C.reason],
            attempts: row[C.attempts],
            expiresAt: (row[C.expiresAt] as Double?).map(Date.init(timeIntervalSince1970:))
        )
    }

    /// The bytes `JSONEncoder` with `.sortedKeys` writes, without going through `Encodable`
    /// (throwing kept for the callers that expect it).
    static func payloadJSON(_ payload: DeliveryPayload?) throws -> String? {
        guard let payload else { return nil }
        return String(decoding: payload.journalValue.jsonData(escapingSlashes: true), as: UTF8.self)
    }

    static func attempt(from row: Row) throws -> Attempt {
        let outcomeText: String = row["outcome"]
        guard let outcome = AttemptOutcome(rawValue: outcomeText) else {
            throw JournalError(kind: .corrupt, file: "", operation: "",
                               message: "an attempt has an unknown outcome \(outcomeText)")
        }
        return Attempt(deliveryID: DeliveryID(rawValue: row["delivery_id"]),
                       at: Date(timeIntervalSince1970: row["at"]),
                       outcome: outcome, code: row["code"], message: row["message"])
    }

    static func insert(_ event: CloudEvent, receivedAt: Date, in db: Database) throws -> Bool {
        try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO events (source, id, type, subject, "time", received_at, body)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(
            arguments: [event.source, event.id, event.type, event.subject, event.time,
                        receivedAt.timeIntervalSince1970,
                        String(decoding: event.structuredJSON(), as: UTF8.self)])
        return db.changesCount > 0
    }

    static func insert(_ delivery: Delivery, createdAt: Date, in db: Database) throws {
        let now = createdAt.timeIntervalSince1970
        try db.cachedStatement(sql: """
                INSERT INTO deliveries (\(deliveryColumns), created_at, updated_at, destination)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(
            arguments: [delivery.id.rawValue, delivery.event.source, delivery.event.id, delivery.rule,
                        delivery.action, delivery.channel.rawValue, delivery.recipient,
                        delivery.notBefore.timeIntervalSince1970, delivery.state.rawValue,
                        try payloadJSON(delivery.payload), delivery.reason, delivery.attempts,
                        delivery.expiresAt?.timeIntervalSince1970, now, now, delivery.destination.rawValue])
    }

    static func insertAttempt(_ id: DeliveryID, at: Date, outcome: AttemptOutcome, code: String?,
                              message: String?, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO attempts (delivery_id, at, outcome, code, message) VALUES (?, ?, ?, ?, ?)").execute(
            arguments: [id.rawValue, at.timeIntervalSince1970, outcome.rawValue, code, message])
    }
}
