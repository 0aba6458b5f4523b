import Foundation
import GRDB
import HeroldCore

/// What one `claim` took: the deliveries now in flight, and the ones that expired instead.
public struct JournalClaim: Sendable {
    /// Now in flight, their attempt counted: to be sent.
    public var claimed: [Delivery]
    /// Due but past their `expiresAt`: now failed, never sent.
    public var expired: [Delivery]
    /// When each claimed delivery was first tried since it was queued or requeued.
    public var firstAttempts: [DeliveryID: Date]
    /// When each claimed delivery's event arrived in the journal (its `created_at`).
    public var arrivals: [DeliveryID: Date] = [:]

    public init(claimed: [Delivery], expired: [Delivery], firstAttempts: [DeliveryID: Date],
                arrivals: [DeliveryID: Date] = [:]) {
        self.claimed = claimed
        self.expired = expired
        self.firstAttempts = firstAttempts
        self.arrivals = arrivals
    }
}

/// One outcome to record: what the lifecycle decided for a delivery in flight.
public struct DeliveryOutcome: Sendable, Equatable {
    public var id: DeliveryID
    public var action: DeliveryAction
    public var at: Date
    public init(id: DeliveryID, action: DeliveryAction, at: Date) {
        self.id = id
        self.action = action
        self.at = at
    }
}

/// The transitions of `DeliveryLifecycle` as conditional updates: each runs only from the
/// states the lifecycle allows, inside one short transaction, so the daemon and operator
/// commands can act at the same time without stepping on each other.
extension Journal {
    /// Takes up to `limit` due deliveries, earliest first, and applies the lifecycle's
    /// `claim` to each in one transaction: in flight (attempt counted), or failed if expired.
    public func claim(now: Date, limit: Int, lateness: Lateness = .never) async throws -> JournalClaim {
        try await write("claim due deliveries") { db in
            var result = JournalClaim(claimed: [], expired: [], firstAttempts: [:])
            let rows = try Row.fetchAll(try db.cachedStatement(sql: """
                SELECT \(Self.deliveryColumns), first_attempt_at, created_at FROM deliveries
                WHERE state IN (\(Self.claimable)) AND not_before <= ?
                ORDER BY not_before, created_at, id
                LIMIT ?
                """), arguments: [now.timeIntervalSince1970, max(0, limit)])
            try Self.claim(rows, now: now, lateness: lateness, into: &result, in: db)
            return result
        }
    }

    /// The lanes' claim: for each destination, up to its limit of due deliveries, earliest
    /// first, all in one transaction. Deliveries whose destination is not in `limits` (an
    /// endpoint removed from the config) are claimed too, up to `others`, so that they fail
    /// with a reason instead of waiting forever.
    public func claim(now: Date, limits: [Destination: Int], others: Int = 0,
                      lateness: Lateness = .never) async throws -> JournalClaim {
        // No fsync: a claim lost to a power cut leaves the delivery due again, to be sent
        // (again) with the same id — at-least-once, like a crash after the claim.
        try await writeWithoutWaitingForDisk("claim due deliveries") { db in
            var result = JournalClaim(claimed: [], expired: [], firstAttempts: [:])
            for (destination, limit) in limits.sorted(by: { $0.key < $1.key }) where limit > 0 {
                try Self.claim(Self.due(destination, now: now, limit: limit, in: db), now: now, lateness: lateness,
                               into: &result, in: db)
            }
            // Destinations the config no longer has: found along the destination index, so a
            // queue of 100,000 for the configured lanes is not read row by row to find none.
            var left = others
            for destination in try (others > 0 ? Self.destinations(in: db) : []) where limits[destination] == nil && left > 0 {
                let rows = try Self.due(destination, now: now, limit: left, in: db)
                try Self.claim(rows, now: now, lateness: lateness, into: &result, in: db)
                left -= rows.count
            }
            return result
        }
    }

    /// The earliest moment a delivery of one of `destinations` is due (nil: none queued).
    public func nextDue(in destinations: Set<Destination>) async throws -> Date? {
        guard !destinations.isEmpty else { return nil }
        return try await read("find the next due delivery") { db in
            var earliest: Double?
            for destination in destinations {
                let due = try Double.fetchOne(db, sql: """
                    SELECT MIN(not_before) FROM deliveries INDEXED BY deliveries_destination_due
                    WHERE destination = ? AND state IN (\(Self.claimable))
                    """, arguments: [destination.rawValue])
                if let due { earliest = min(earliest ?? due, due) }
            }
            return earliest.map(Date.init(timeIntervalSince1970:))
        }
    }

    /// Up to `limit` due deliveries of one destination, earliest first, from its index.
    private static func due(_ destination: Destination, now: Date, limit: Int, in db: Database) throws -> [Row] {
        try Row.fetchAll(try db.cachedStatement(sql: """
            SELECT \(Self.deliveryColumns), first_attempt_at, created_at FROM deliveries INDEXED BY deliveries_destination_due
            WHERE destination = ? AND state IN (\(Self.claimable)) AND not_before <= ?
            ORDER BY not_before
            LIMIT ?
            """), arguments: [destination.rawValue, now.timeIntervalSince1970, limit])
    }

    /// Every destination deliveries name, whatever their state: one index seek per
    /// destination (there are a few), however many deliveries each has.
    private static func destinations(in db: Database) throws -> [Destination] {
        var found: [Destination] = []
        var next = try String.fetchOne(try db.cachedStatement(sql: """
            SELECT MIN(destination) FROM deliveries INDEXED BY deliveries_destination_due
            """))
        while let name = next {
            found.append(Destination(rawValue: name))
            next = try String.fetchOne(try db.cachedStatement(sql: """
                SELECT MIN(destination) FROM deliveries INDEXED BY deliveries_destination_due WHERE destination > ?
                """), arguments: [name])
        }
        return found
    }

    static let claimable = sqlStates(DeliveryLifecycle.sources(of: .claim))

    /// The lifecycle's claim, one row at a time: whether a delivery is still worth sending
    /// (its `expiresAt`, a rule's `not_after`, the downtime grace) is decided here, in the
    /// same transaction that takes it.
    private static func claim(_ rows: [Row], now: Date, lateness: Lateness, into result: inout JournalClaim,
                              in db: Database) throws {
        let lifecycle = DeliveryLifecycle(lateness: lateness)
        for row in rows {
            var delivery = try Self.delivery(from: row)
            let transition: DeliveryTransition
            do {
                transition = try lifecycle.apply(.claim, to: delivery, now: now)
            } catch {
                continue
            }
            for action in transition.actions {
                switch action {
                case .transmit:
                    let first = (row[DeliveryColumn.end] as Double?) ?? now.timeIntervalSince1970
                    try db.cachedStatement(sql: """
                        UPDATE deliveries SET state = 'inflight', attempts = attempts + 1,
                            last_attempt_at = ?, first_attempt_at = ?, updated_at = ?
                        WHERE id = ?
                        """).execute(arguments: [now.timeIntervalSince1970, first, now.timeIntervalSince1970, delivery.id.rawValue])
                    delivery.attempts += 1
                    result.firstAttempts[delivery.id] = Date(timeIntervalSince1970: first)
                    result.arrivals[delivery.id] = (row[DeliveryColumn.end + 1] as Double?).map(Date.init(timeIntervalSince1970:))
                case .recordFailed(let failure):
                    // Too late: the reason says when it was due, in words (the code is on the attempt).
                    try db.cachedStatement(sql: "UPDATE deliveries SET state = 'failed', reason = ?, updated_at = ? WHERE id = ?").execute(
                                   arguments: [failure.message, now.timeIntervalSince1970, delivery.id.rawValue])
                    try Self.insertAttempt(delivery.id, at: now, outcome: .failed, code: failure.code,
                                           message: failure.message, in: db)
                    delivery.reason = failure.message
                default:
                    continue
                }
            }
            delivery.state = transition.state
            if transition.state == .inflight { result.claimed.append(delivery) } else { result.expired.append(delivery) }
        }
    }

    /// Records outcomes of deliveries in flight, all in one transaction (one fsync): the
    /// dispatcher's group commit, which keeps the window between a server's "250 OK" and
    /// the journal's record of it short when many transfers finish at once. Deliveries no
    /// longer in flight are left alone. Returns how many changed.
    @discardableResult
    public func record(_ outcomes: [DeliveryOutcome]) async throws -> Int {
        try await writeWithoutWaitingForDisk("record \(outcomes.count) outcome(s)") { db in
            var changed = 0
            for outcome in outcomes {
                let id = outcome.id.rawValue, at = outcome.at.timeIntervalSince1970
                let attempt: (AttemptOutcome, String?, String?)
                switch outcome.action {
                case .recordSent(let reply):
                    try db.cachedStatement(sql: """
                        UPDATE deliveries SET state = 'sent', reason = NULL, sent_at = ?, updated_at = ?
                        WHERE id = ? AND state = 'inflight'
                        """).execute(arguments: [at, at, id])
                    attempt = (.sent, nil, reply)
                case .recordDeferred(let failure, let until):
                    try db.cachedStatement(sql: """
                        UPDATE deliveries SET state = 'deferred', reason = ?, not_before = ?, updated_at = ?
                        WHERE id = ? AND state = 'inflight'
                        """).execute(arguments: [failure.description, until.timeIntervalSince1970, at, id])
                    attempt = (.deferred, failure.code, failure.message)
                case .recordFailed(let failure):
                    try db.cachedStatement(sql: """
                        UPDATE deliveries SET state = 'failed', reason = ?, updated_at = ?
                        WHERE id = ? AND state = 'inflight'
                        """).execute(arguments: [failure.description, at, id])
                    attempt = (.failed, failure.code, failure.message)
                case .recordInterrupted(let reason):
                    // Not an attempt: the destination refused to work, not this delivery.
                    try db.cachedStatement(sql: """
                        UPDATE deliveries SET state = 'pending', reason = ?, attempts = MAX(attempts - 1, 0),
                            updated_at = ?
                        WHERE id = ? AND state = 'inflight'
                        """).execute(arguments: [reason, at, id])
                    changed += db.changesCount
                    continue
                case .transmit, .recordHeld, .recordPending:
                    continue
                }
                guard db.changesCount > 0 else { continue }
                changed += 1
                try Self.insertAttempt(outcome.id, at: outcome.at, outcome: attempt.0, code: attempt.1,
                                       message: attempt.2, in: db)
            }
            return changed
        }
    }

    /// Holds pending or deferred deliveries for an operator, with the reason. Returns how many changed.
    public func hold(_ ids: [DeliveryID], reason: String, now: Date) async throws -> Int {
        try await write("hold \(ids.count) deliveries") { db in
            var changed = 0
            for id in ids {
                try db.cachedStatement(sql: """
                    UPDATE deliveries SET state = 'held', reason = ?, updated_at = ?
                    WHERE id = ? AND state IN (\(Self.sqlStates(DeliveryLifecycle.sources(of: .hold))))
                    """).execute(arguments: [reason, now.timeIntervalSince1970, id.rawValue])
                changed += db.changesCount
            }
            return changed
        }
    }

    /// Lets held deliveries go again: pending, due no earlier than `now`, with a fresh
    /// attempt count. Returns how many changed.
    public func release(_ ids: [DeliveryID], now: Date) async throws -> Int {
        try await resetToPending(ids, now: now, allowedBy: .release, operation: "release")
    }

    /// Back to pending with a fresh attempt count (the attempt history stays), due no
    /// earlier than `now`, for those of `ids` whose state `event` may leave.
    func resetToPending(_ ids: [DeliveryID], now: Date, allowedBy event: DeliveryEvent.Kind,
                        operation: String) async throws -> Int {
        try await write("\(operation) \(ids.count) deliveries") { db in
            var changed = 0
            for id in ids {
                try db.cachedStatement(sql: """
                    UPDATE deliveries SET state = 'pending', reason = NULL, attempts = 0, first_attempt_at = NULL,
                        not_before = MAX(not_before, ?), updated_at = ?
                    WHERE id = ? AND state IN (\(Self.sqlStates(DeliveryLifecycle.sources(of: event))))
                    """).execute(arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, id.rawValue])
                changed += db.changesCount
            }
            return changed
        }
    }

    /// The states `purge` removes: dead letters and held ones, never work still queued or in flight.
    public static let purgeableStates: Set<DeliveryState> = [.failed, .held]

    /// Deletes failed or held deliveries with their attempts (the event stays, so it is
    /// still a duplicate if it arrives again). Returns how many were deleted.
    public func purge(_ ids: [DeliveryID]) async throws -> Int {
        try await write("purge \(ids.count) deliveries") { db in
            var changed = 0
            for id in ids {
                let condition = "id = ? AND state IN (\(Self.sqlStates(Self.purgeableStates)))"
                try db.cachedStatement(sql: "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE \(condition))").execute(
                               arguments: [id.rawValue])
                try db.cachedStatement(sql: "DELETE FROM deliveries WHERE \(condition)").execute(arguments: [id.rawValue])
                changed += db.changesCount
            }
            return changed
        }
    }

    /// Deletes every failed delivery with its attempts. Returns how many.
    public func purgeAllFailed() async throws -> Int {
        try await write("purge all failed deliveries") { db in
            try db.cachedStatement(sql: "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE state = 'failed')").execute()
            try db.cachedStatement(sql: "DELETE FROM deliveries WHERE state = 'failed'").execute()
            return db.changesCount
        }
    }

    /// `'a', 'b'` for an SQL `IN (...)`; the names are the enum's own, never input.
    static func sqlStates(_ states: Set<DeliveryState>) -> String {
        states.map { "'\($0.rawValue)'" }.sorted().joined(separator: ", ")
    }
}
