import Foundation
import GRDB
import HeroldCore

/// `herold forget`: erasure on request (RODO art. 17). It finds the person by address (and
/// by the names given), in two steps: a read that looks through the journal, then short
/// write transactions of at most 200 rows that check each row again, so it runs safely
/// beside the daemon. Deliveries in flight are waited for (up to `inFlightWait`).
extension Journal {
    /// What replaces an address or a name in a message to someone else.
    public static let erasedText = "[usunięto]"
    /// The reason of a delivery cancelled by `forget`.
    public static let erasedReason = "erased on request"
    /// The recipient kept on a delivery to a forgotten person: nothing links it to them.
    public static let erasedRecipient = "[erased]"

    public func forget(addresses: [String], names: [String] = [], now: Date, pseudonym: RecipientPseudonym,
                       inFlightWait: Duration = .seconds(30)) async throws -> ErasureReport {
        let request = ErasureRequest(addresses: addresses, names: names)
        let addresses = request.addresses, terms = request.terms
        guard !terms.isEmpty else { return ErasureReport() }
        let found = try await read("find what names the person") { db in
            try Self.findMentions(addresses: addresses, hashes: addresses.map(pseudonym.hash), terms: terms, in: db)
        }
        var report = ErasureReport()
        let at = now.timeIntervalSince1970
        var waiting = try await eraseDeliveries(found.own, terms: terms, own: true, at: at, into: &report)
        waiting += try await eraseDeliveries(found.others, terms: terms, own: false, at: at, into: &report)
        for chunk in found.events.chunked(200) {
            report.events += try await write("erase events naming the person") { db in
                var erased = 0
                for key in chunk {
                    // By key: a retention pass may have moved the row since it was found.
                    guard let rowid = try Int64.fetchOne(db, sql: "SELECT rowid FROM events WHERE source = ? AND id = ? AND body <> ''",
                                                         arguments: [key.source, key.id]) else { continue }
                    try Self.eraseEventBody(rowid: rowid, in: db)
                    erased += 1
                }
                return erased
            }
        }
        report.replies += try await eraseReplies(found, terms: terms)
        let deadline = ContinuousClock.now.advanced(by: inFlightWait)
        while !waiting.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            var again = ErasureReport()
            let own = waiting.filter { found.own.contains($0) }, others = waiting.filter { !found.own.contains($0) }
            waiting = try await eraseDeliveries(own, terms: terms, own: true, at: at, into: &again)
            waiting += try await eraseDeliveries(others, terms: terms, own: false, at: at, into: &again)
            report.addDeliveries(of: again)
        }
        report.inFlight = waiting.count
        return report
    }

    /// Everything that names the person, by row.
    struct Mentions: Sendable {
        var own: [String] = []
        var others: [String] = []
        var events: [EventKey] = []
        /// Attempts (rowid, delivery) of deliveries not in `own` or `others`.
        var attempts: [(Int64, String)] = []
        var lanes: [String] = []
    }

    static func findMentions(addresses: [String], hashes: [String], terms: [String], in db: Database) throws -> Mentions {
        var found = Mentions()
        found.own = try ownDeliveries(addresses + hashes, in: db)
        let own = Set(found.own)
        let rows = try Row.fetchCursor(db, sql: "SELECT id, payload, reason FROM deliveries WHERE payload IS NOT NULL OR reason IS NOT NULL")
        while let row = try rows.next() {
            let id: String = row["id"]
            guard !own.contains(id) else { continue }
            let payload = try (row["payload"] as String?).map(decodePayload)
            let reason: String = row["reason"] ?? ""
            if names(payload.map(searchableText) ?? "", terms) || names(reason, terms) { found.others.append(id) }
        }
        let events = try Row.fetchCursor(db, sql: "SELECT source, id, body, coalesce(subject, '') AS subject FROM events WHERE body <> ''")
        while let row = try events.next() {
            let body: String = row["body"], subject: String = row["subject"]
            if names(body + "\n" + subject, terms) { found.events.append(EventKey(source: row["source"], id: row["id"])) }
        }
        let handled = own.union(found.others)
        let attempts = try Row.fetchCursor(db, sql: "SELECT rowid, delivery_id, message FROM attempts WHERE message IS NOT NULL")
        while let row = try attempts.next() {
            let delivery: String = row["delivery_id"]
            if !handled.contains(delivery), names(row["message"], terms) { found.attempts.append((row["rowid"], delivery)) }
        }
        let lanes = try Row.fetchCursor(db, sql: "SELECT destination, reason FROM lanes WHERE reason IS NOT NULL")
        while let row = try lanes.next() {
            if names(row["reason"], terms) { found.lanes.append(row["destination"]) }
        }
        return found
    }

    /// Ids of deliveries addressed to one of `recipients` (addresses or their hashes).
    static func ownDeliveries(_ recipients: [String], in db: Database) throws -> [String] {
        guard !recipients.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: recipients.count).joined(separator: ", ")
        return try String.fetchAll(db, sql: "SELECT id FROM deliveries WHERE recipient COLLATE NOCASE IN (\(marks))",
                                   arguments: StatementArguments(recipients))
    }

    /// Whether `text` contains one of `terms`, ignoring case.
    public static func names(_ text: String, _ terms: [String]) -> Bool {
        terms.contains { text.range(of: $0, options: .caseInsensitive) != nil }
    }

    /// Erases (finished), cancels (own, still due) or rewrites (others', still due) each
    /// delivery, 200 to a transaction. Returns the ids still in flight.
    private func eraseDeliveries(_ ids: [String], terms: [String], own: Bool, at: Double,
                                 into report: inout ErasureReport) async throws -> [String] {
        var inFlight: [String] = []
        for chunk in ids.chunked(200) {
            let (done, waiting) = try await write("erase deliveries naming the person") { db in
                var done = ErasureReport(), waiting: [String] = []
                for id in chunk {
                    guard let row = try Row.fetchOne(db, sql: "SELECT state, recipient, payload, reason FROM deliveries WHERE id = ?",
                                                     arguments: [id]),
                          let state = DeliveryState(rawValue: row["state"]) else { continue }
                    let step = ErasureStep(state: state, own: own)
                    if step == .wait { waiting.append(id) }
                    if step == .rewrite { try Self.rewrite(id, row: row, terms: terms, in: db) }
                    if step.endsDelivery {
                        try db.execute(sql: "UPDATE deliveries SET state = 'failed', updated_at = ? WHERE id = ?", arguments: [at, id])
                    }
                    if step.erasesContent {
                        try Self.eraseContent(of: id, recipient: step.keptRecipient(row["recipient"]), reason: step.erasedReason,
                                              at: at, in: db)
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
    private static func rewrite(_ id: String, row: Row, terms: [String], in db: Database) throws {
        let payload = try (row["payload"] as String?).map(decodePayload).map { replacing(terms, in: $0) }
        let reason = (row["reason"] as String?).map { replacing(terms, in: $0) }
        try db.execute(sql: "UPDATE deliveries SET payload = ?, reason = ? WHERE id = ?",
                       arguments: [try payloadJSON(payload), reason, id])
    }

    private func eraseReplies(_ found: Mentions, terms: [String]) async throws -> Int {
        var count = 0
        for chunk in found.attempts.chunked(200) {
            count += try await write("erase replies naming the person") { db in
                var erased = 0
                for (rowid, delivery) in chunk {
                    try db.execute(sql: "UPDATE attempts SET message = NULL WHERE rowid = ? AND delivery_id = ? AND message IS NOT NULL",
                                   arguments: [rowid, delivery])
                    erased += db.changesCount
                }
                return erased
            }
        }
        let lanes = found.lanes
        count += try await write("erase lane reasons naming the person") { db in
            for lane in lanes { try db.execute(sql: "UPDATE lanes SET reason = NULL WHERE destination = ?", arguments: [lane]) }
            return lanes.count
        }
        return count
    }

    static func decodePayload(_ json: String) throws -> DeliveryPayload {
        do {
            return try JSONDecoder().decode(DeliveryPayload.self, from: Data(json.utf8))
        } catch {
            throw JournalError(kind: .corrupt, file: "", operation: "", message: "a delivery has an unreadable payload: \(error)")
        }
    }

    /// Every text a recipient could read in the message.
    public static func searchableText(_ payload: DeliveryPayload) -> String {
        switch payload {
        case .email(let m):
            return [m.from, m.to, m.subject, m.text, m.html ?? "", m.replyTo ?? "", m.sender ?? "", m.listUnsubscribe ?? "",
                    m.attachments.map(\.name).joined(separator: " ")].joined(separator: "\n")
        case .webhook(let hook):
            return String(decoding: hook.body, as: UTF8.self)
        }
    }

    public static func replacing(_ terms: [String], in text: String) -> String {
        terms.reduce(text) { $0.replacingOccurrences(of: $1, with: erasedText, options: .caseInsensitive) }
    }

    public static func replacing(_ terms: [String], in payload: DeliveryPayload) -> DeliveryPayload {
        switch payload {
        case .email(var m):
            m.to = replacing(terms, in: m.to)
            m.subject = replacing(terms, in: m.subject)
            m.text = replacing(terms, in: m.text)
            m.html = m.html.map { replacing(terms, in: $0) }
            return .email(m)
        case .webhook(var hook):
            hook.body = Data(replacing(terms, in: String(decoding: hook.body, as: UTF8.self)).utf8)
            return .webhook(hook)
        }
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: Swift.max(1, size)).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
