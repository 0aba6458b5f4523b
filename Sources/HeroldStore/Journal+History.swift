import Foundation
import GRDB
import HeroldCore

/// One delivery in a person's history (`herold history`, RODO art. 15).
public struct HistoryEntry: Sendable {
    /// How the delivery concerns the person.
    public enum Relation: String, Sendable {
        /// Sent (or to be sent) to them.
        case recipient
        /// Sent to someone else, naming them (their address in the message).
        case mentioned
    }

    public var relation: Relation
    /// The delivery; its payload is nil once the content period has passed.
    public var delivery: Delivery
    /// The event's type (`contest.deadline`), when the event is still known.
    public var eventType: String?
    public var destination: String
    /// When it was planned (the event arrived).
    public var plannedAt: Date
    /// When it last changed state (for a finished one: when it finished).
    public var updatedAt: Date
    public var sentAt: Date?
    /// When its content was erased (retention or `forget`); nil while kept.
    public var contentErasedAt: Date?
    public var attempts: [Attempt]

    public init(relation: Relation, delivery: Delivery, eventType: String?, destination: String, plannedAt: Date,
                updatedAt: Date, sentAt: Date?, contentErasedAt: Date?, attempts: [Attempt]) {
        self.relation = relation
        self.delivery = delivery
        self.eventType = eventType
        self.destination = destination
        self.plannedAt = plannedAt
        self.updatedAt = updatedAt
        self.sentAt = sentAt
        self.contentErasedAt = contentErasedAt
        self.attempts = attempts
    }
}

extension Journal {
    /// Every delivery to `address` (also those whose address is now its keyed hash), and,
    /// while their content is kept, those to others whose message names it; in the order
    /// they were due.
    public func history(address: String, pseudonym: RecipientPseudonym) async throws -> [HistoryEntry] {
        let address = address.trimmingCharacters(in: .whitespaces)
        return try await read("list the history of an address") { db in
            let own = try Self.ownDeliveries([address, pseudonym.hash(address)], in: db)
            let mentioned = try Self.findMentions(addresses: [], hashes: [], terms: [address], in: db).others
            let ownSet = Set(own)
            return try (own + mentioned.filter { !ownSet.contains($0) }).compactMap { id in
                try Self.historyEntry(id, relation: ownSet.contains(id) ? .recipient : .mentioned, in: db)
            }.sorted { ($0.delivery.notBefore, $0.delivery.id.rawValue) < ($1.delivery.notBefore, $1.delivery.id.rawValue) }
        }
    }

    private static func historyEntry(_ id: String, relation: HistoryEntry.Relation, in db: Database) throws -> HistoryEntry? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT \(deliveryColumns.split(separator: ",").map { "d." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")),
                d.destination, d.created_at, d.updated_at, d.sent_at, d.content_erased_at, e.type AS event_type
            FROM deliveries d LEFT JOIN events e ON e.source = d.event_source AND e.id = d.event_id
            WHERE d.id = ?
            """, arguments: [id]) else { return nil }
        let attempts = try Row.fetchAll(db, sql: """
            SELECT delivery_id, at, outcome, code, message FROM attempts WHERE delivery_id = ? ORDER BY at, rowid
            """, arguments: [id]).map(attempt(from:))
        return HistoryEntry(
            relation: relation, delivery: try delivery(from: row), eventType: row["event_type"],
            destination: row["destination"],
            plannedAt: Date(timeIntervalSince1970: row["created_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            sentAt: (row["sent_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            contentErasedAt: (row["content_erased_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            attempts: attempts)
    }
}
