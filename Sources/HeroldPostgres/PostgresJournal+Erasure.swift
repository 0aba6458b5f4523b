import Foundation
import HeroldCore
import HeroldStore
import PostgresNIO

/// `herold forget` and `herold history` (RODO art. 17 and 15) on the shared journal, the
/// SQLite journal's rules: find by address (and names) in one read, then short transactions
/// of at most 200 rows that check each row again, deliveries in flight (on any node) waited
/// for up to `inFlightWait`. Erased values leave dead row versions until autovacuum.
extension PostgresJournal {
    /// Everything that names the person, by row.
    struct Mentions: Sendable {
        var own: [String] = []
        var others: [String] = []
        var events: [EventKey] = []
        /// Attempts (seq) of deliveries not in `own` or `others`.
        var attempts: [Int] = []
        var lanes: [String] = []
    }

    public func forget(addresses: [String], names: [String], now: Date, pseudonym: RecipientPseudonym,
                       inFlightWait: Duration) async throws -> ErasureReport {
        let request = ErasureRequest(addresses: addresses, names: names)
        let addresses = request.addresses, terms = request.terms
        guard !terms.isEmpty else { return ErasureReport() }
        let found = try await read("find what names the person") { connection in
            try await self.findMentions(recipients: addresses + addresses.map(pseudonym.hash), terms: terms, on: connection)
        }
        let at = now.timeIntervalSince1970
        var report = ErasureReport()
        var waiting = try await eraseDeliveries(found.own, terms: terms, own: true, at: at, into: &report)
        waiting += try await eraseDeliveries(found.others, terms: terms, own: false, at: at, into: &report)
        report.events = try await erase(found)
        report.replies = found.attempts.count + found.lanes.count
        let deadline = ContinuousClock.now.advanced(by: inFlightWait)
        let own = Set(found.own)
        while !waiting.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            let mine = waiting.filter(own.contains), others = waiting.filter { !own.contains($0) }
            waiting = try await eraseDeliveries(mine, terms: terms, own: true, at: at, into: &report)
            waiting += try await eraseDeliveries(others, terms: terms, own: false, at: at, into: &report)
        }
        report.inFlight = waiting.count
        return report
    }

    /// Every delivery to `address` (also those whose address is now its keyed hash), and,
    /// while their content is kept, those to others whose message names it; in the order
    /// they were due.
    public func history(address: String, pseudonym: RecipientPseudonym) async throws -> [HistoryEntry] {
        let address = address.trimmingCharacters(in: .whitespaces)
        return try await read("list the history of an address") { connection in
            let found = try await self.findMentions(recipients: [address, pseudonym.hash(address)], terms: [address],
                                                    on: connection)
            let own = Set(found.own)
            var entries: [HistoryEntry] = []
            for id in found.own + found.others.filter({ !own.contains($0) }) {
                if let entry = try await self.historyEntry(id, relation: own.contains(id) ? .recipient : .mentioned,
                                                           on: connection) {
                    entries.append(entry)
                }
            }
            return entries.sorted { ($0.delivery.notBefore, $0.delivery.id.rawValue) < ($1.delivery.notBefore, $1.delivery.id.rawValue) }
        }
    }

    private func historyEntry(_ id: String, relation: HistoryEntry.Relation,
                              on connection: PostgresConnection) async throws -> HistoryEntry? {
        let columns = Self.deliveryColumns.split(separator: ",").map { "d." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard let row = try await rows("""
            SELECT \(unescaped: columns.joined(separator: ", ")), d.destination, d.created_at, d.updated_at, d.sent_at,
                d.content_erased_at, e.type AS event_type
            FROM deliveries d LEFT JOIN events e ON e.source = d.event_source AND e.id = d.event_id
            WHERE d.id = \(id)
            """, on: connection).first else { return nil }
        let attempts = try await rows("""
            SELECT delivery_id, at, outcome, code, message FROM attempts WHERE delivery_id = \(id) ORDER BY at, seq
            """, on: connection).map(Self.attempt(from:))
        return HistoryEntry(relation: relation, delivery: try Self.delivery(from: row),
                            eventType: try row["event_type"].decode(String?.self),
                            destination: try row["destination"].decode(String.self),
                            plannedAt: Self.date(try row["created_at"].decode(Double.self)),
                            updatedAt: Self.date(try row["updated_at"].decode(Double.self)),
                            sentAt: try row["sent_at"].decode(Double?.self).map(Self.date),
                            contentErasedAt: try row["content_erased_at"].decode(Double?.self).map(Self.date),
                            attempts: attempts)
    }

    /// Reads through the journal for what names the person: deliveries to `recipients`,
    /// and every message, reason, event, reply and lane reason containing one of `terms`.
    private func findMentions(recipients: [String], terms: [String], on connection: PostgresConnection) async throws -> Mentions {
        var found = Mentions()
        let lowered = recipients.map { $0.lowercased() }
        found.own = try await rows("SELECT id FROM deliveries WHERE lower(recipient) = ANY(\(lowered))", on: connection)
            .map { try $0["id"].decode(String.self) }
        let own = Set(found.own)
        for try await (id, payload, reason) in try await connection.query("""
            SELECT id, payload, reason FROM deliveries WHERE payload IS NOT NULL OR reason IS NOT NULL
            """, logger: logger).decode((String, String?, String?).self) where !own.contains(id) {
            let text = try Self.payload(payload, of: id).map(Journal.searchableText) ?? ""
            if Journal.names(text, terms) || Journal.names(reason ?? "", terms) { found.others.append(id) }
        }
        for try await (source, id, body, subject) in try await connection.query("""
            SELECT source, id, body, coalesce(subject, '') FROM events WHERE body <> ''
            """, logger: logger).decode((String, String, String, String).self) where Journal.names(body + "\n" + subject, terms) {
            found.events.append(EventKey(source: source, id: id))
        }
        let handled = own.union(found.others)
        for try await (seq, delivery, message) in try await connection.query("""
            SELECT seq, delivery_id, message FROM attempts WHERE message IS NOT NULL
            """, logger: logger).decode((Int, String, String).self) where !handled.contains(delivery) && Journal.names(message, terms) {
            found.attempts.append(seq)
        }
        for try await (destination, reason) in try await connection.query("""
            SELECT destination, reason FROM lanes WHERE reason IS NOT NULL
            """, logger: logger).decode((String, String).self) where Journal.names(reason, terms) {
            found.lanes.append(destination)
        }
        return found
    }

    /// Erases (finished), cancels (own, still due) or rewrites (others', still due) each
    /// delivery, 200 to a transaction. Returns the ids still in flight.
    private func eraseDeliveries(_ ids: [String], terms: [String], own: Bool, at: Double,
                                 into report: inout ErasureReport) async throws -> [String] {
        var inFlight: [String] = []
        for start in stride(from: 0, to: ids.count, by: 200) {
            let chunk = Array(ids[start..<min(start + 200, ids.count)])
            let (done, waiting) = try await transaction("erase deliveries naming the person") { connection in
                var done = ErasureReport(), waiting: [String] = []
                for row in try await self.rows("""
                    SELECT id, state, recipient, payload, reason FROM deliveries WHERE id = ANY(\(chunk)) ORDER BY id FOR UPDATE
                    """, on: connection) {
                    let id = try row["id"].decode(String.self)
                    let step = ErasureStep(state: try Self.state(row["state"].decode(String.self)), own: own)
                    if step == .wait { waiting.append(id) }
                    if step == .rewrite { try await self.rewrite(id, row: row, terms: terms, on: connection) }
                    if step.endsDelivery {
                        try await connection.query("UPDATE deliveries SET state = 'failed', updated_at = \(at) WHERE id = \(id)",
                                                   logger: self.logger)
                    }
                    if step.erasesContent {
                        try await self.eraseContent([id], recipients: [step.keptRecipient(try row["recipient"].decode(String.self))],
                                                    reason: step.erasedReason, at: at, on: connection)
                    }
                    done.count(step)
                }
                return (done, waiting)
            }
            inFlight += waiting
            report.addDeliveries(of: done)
        }
        return inFlight
    }

    /// A message to someone else, still to go: the person's address and names replaced.
    private func rewrite(_ id: String, row: PostgresRandomAccessRow, terms: [String],
                         on connection: PostgresConnection) async throws {
        let payload = try Self.payload(row["payload"].decode(String?.self), of: id).map { Journal.replacing(terms, in: $0) }
        let reason = try row["reason"].decode(String?.self).map { Journal.replacing(terms, in: $0) }
        try await connection.query("""
            UPDATE deliveries SET payload = \(try Self.payloadJSON(payload)), reason = \(reason) WHERE id = \(id)
            """, logger: logger)
    }

    /// Erases the events' bodies, the replies and the lane reasons that name the person.
    /// Returns how many events.
    private func erase(_ found: Mentions) async throws -> Int {
        let sources = found.events.map(\.source), ids = found.events.map(\.id)
        let attempts = found.attempts, lanes = found.lanes
        return try await transaction("erase events and replies naming the person") { connection in
            try await connection.query("UPDATE attempts SET message = NULL WHERE seq = ANY(\(attempts))", logger: self.logger)
            try await connection.query("UPDATE lanes SET reason = NULL WHERE destination = ANY(\(lanes))", logger: self.logger)
            return try await self.changes("""
                UPDATE events e SET body = '', subject = NULL FROM unnest(\(sources)::text[], \(ids)::text[]) AS k(source, id)
                WHERE e.source = k.source AND e.id = k.id AND e.body <> '' RETURNING 1
                """, on: connection)
        }
    }
}
