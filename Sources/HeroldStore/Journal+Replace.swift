import Foundation
import GRDB
import HeroldCore

/// Updates and withdrawals (see `CloudEvent.replacesEarlier`), and what the scheduler asks
/// of the journal's history.
extension Journal {
    /// Like `record`, and in the same transaction: each newly recorded event that replaces
    /// earlier ones ends their pending, deferred or held deliveries as `failed` with
    /// `event.replacementReason`. Sent deliveries are untouched (never resent).
    /// Returns the keys newly recorded and the ids of the deliveries ended.
    public func recordReplacing(_ batch: [(event: CloudEvent, deliveries: [Delivery])],
                                receivedAt: Date) async throws -> (recorded: [EventKey], replaced: [DeliveryID]) {
        try await write("record \(batch.count) event(s)") { db in
            var recorded: [EventKey] = []
            var replaced: [DeliveryID] = []
            for (event, deliveries) in batch {
                guard try Self.insert(event, receivedAt: receivedAt, in: db) else { continue }
                recorded.append(event.key)
                if event.replacesEarlier {
                    replaced += try Self.cancelPending(source: event.source, type: event.type, subject: event.subject ?? "",
                                                       except: event.id, reason: event.replacementReason,
                                                       at: receivedAt, in: db)
                }
                for delivery in deliveries {
                    guard delivery.event == event.key else {
                        throw JournalError(kind: .invalid, file: "", operation: "",
                                           message: "delivery \(delivery.id) belongs to event \(delivery.event), not \(event.key)")
                    }
                    try Self.insert(delivery, createdAt: receivedAt, in: db)
                }
            }
            return (recorded, replaced)
        }
    }

    /// Ends the pending, deferred or held deliveries of events with this source, type and
    /// subject (other than event `except`) as `failed` with `reason`. Returns their ids.
    public func cancelPending(source: String, type: String, subject: String, except: String,
                              reason: String, at: Date) async throws -> [DeliveryID] {
        try await write("cancel pending deliveries of \(source) \(type) \(subject)") { db in
            try Self.cancelPending(source: source, type: type, subject: subject, except: except,
                                   reason: reason, at: at, in: db)
        }
    }

    /// A send missed past its grace: `failed` with `reason`, and no attempt (nothing was sent).
    public func markExpired(_ id: DeliveryID, reason: String, at: Date) async throws {
        try await write("mark \(id) expired") { db in
            try db.execute(sql: "UPDATE deliveries SET state = 'failed', reason = ?, updated_at = ? WHERE id = ?",
                           arguments: [reason, at.timeIntervalSince1970, id.rawValue])
        }
    }

    /// When the first event was recorded (herold was in service since); nil for a new journal.
    public func firstReceivedAt() async throws -> Date? {
        try await read("find the first event") { db in
            try Double.fetchOne(db, sql: "SELECT MIN(received_at) FROM events").map(Date.init(timeIntervalSince1970:))
        }
    }

    static func cancelPending(source: String, type: String, subject: String, except: String,
                              reason: String, at: Date, in db: Database) throws -> [DeliveryID] {
        let filter = """
            state IN ('pending', 'deferred', 'held') AND event_source = ? AND event_id IN
                (SELECT id FROM events WHERE source = ? AND type = ? AND subject = ? AND id <> ?)
            """
        let arguments: StatementArguments = [source, source, type, subject, except]
        let ids = try String.fetchAll(db, sql: "SELECT id FROM deliveries WHERE \(filter)", arguments: arguments)
        try db.execute(sql: "UPDATE deliveries SET state = 'failed', reason = ?, updated_at = ? WHERE \(filter)",
                       arguments: [reason, at.timeIntervalSince1970] + arguments)
        return ids.map(DeliveryID.init(rawValue:))
    }
}
