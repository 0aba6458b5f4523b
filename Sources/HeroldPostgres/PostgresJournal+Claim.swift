import Foundation
import HeroldCore
import HeroldStore
import PostgresNIO

/// The dispatcher's side: claims under leases, outcomes, and taking work up again.
extension PostgresJournal {
    /// The columns a claim reads.
    static let claimColumns = deliveryColumns + ", first_attempt_at, created_at"

    /// The lanes' claim, in one transaction: for each destination up to its limit of due
    /// deliveries, earliest first, then up to `others` of destinations not in `limits` (so
    /// they fail with a reason instead of waiting forever), each row locked with `FOR
    /// UPDATE SKIP LOCKED` so another node's claim passes it by. Due means pending or
    /// deferred with `not_before <= now`, or in flight with its lease run out (its node
    /// died): that one is recovered and claimed again, with the same id. Whether a delivery
    /// is still worth sending is decided here (the lifecycle's claim), as in SQLite.
    public func claim(now: Date, limits: [Destination: Int], others: Int, lateness: Lateness) async throws -> JournalClaim {
        let at = now.timeIntervalSince1970
        let known = limits.keys.map(\.rawValue)
        let result = try await transaction("claim due deliveries", durable: false) { connection in
            var rows: [PostgresRandomAccessRow] = []
            for (destination, limit) in limits.sorted(by: { $0.key < $1.key }) where limit > 0 {
                rows += try await self.rows("""
                    SELECT \(unescaped: Self.claimColumns) FROM deliveries
                    WHERE destination = \(destination.rawValue) AND (\(unescaped: Self.dueCondition(at)))
                    ORDER BY not_before, created_at, id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                    """, on: connection)
            }
            if others > 0 {
                rows += try await self.rows("""
                    SELECT \(unescaped: Self.claimColumns) FROM deliveries
                    WHERE destination <> ALL(\(known)) AND (\(unescaped: Self.dueCondition(at)))
                    ORDER BY not_before, created_at, id LIMIT \(others) FOR UPDATE SKIP LOCKED
                    """, on: connection)
            }
            return try await self.claim(rows, now: now, lateness: lateness, on: connection)
        }
        if result.takenOver > 0 {
            logger.notice("took up deliveries whose lease ran out", metadata: [
                "journal": "\(path)", "node": "\(node)", "count": "\(result.takenOver)",
            ])
        }
        return result.claim
    }

    /// Due at `at`: queued and due, or in flight under a lease that has run out. The time
    /// is a number written into the SQL (never input text).
    static func dueCondition(_ at: Double) -> String {
        "(state IN (\(claimable)) AND not_before <= \(at)) OR (state = 'inflight' AND lease_until <= \(at))"
    }

    /// The lifecycle's claim for each row: in flight under this node's lease (attempt
    /// counted), or failed when too late.
    private func claim(_ rows: [PostgresRandomAccessRow], now: Date, lateness: Lateness,
                       on connection: PostgresConnection) async throws -> (claim: JournalClaim, takenOver: Int) {
        let lifecycle = DeliveryLifecycle(lateness: lateness)
        let at = now.timeIntervalSince1970
        var result = JournalClaim(claimed: [], expired: [], firstAttempts: [:])
        var takenOver = 0
        for row in rows {
            var delivery = try Self.delivery(from: row)
            if delivery.state == .inflight, let recovered = try? lifecycle.apply(.recover, to: delivery, now: now) {
                delivery.state = recovered.state
                takenOver += 1
            }
            guard let transition = try? lifecycle.apply(.claim, to: delivery, now: now) else { continue }
            if transition.actions.contains(.transmit) {
                let first = try row["first_attempt_at"].decode(Double?.self) ?? at
                delivery.attempts += 1
                result.firstAttempts[delivery.id] = Self.date(first)
                result.arrivals[delivery.id] = Self.date(try row["created_at"].decode(Double.self))
            }
            for case .recordFailed(let failure) in transition.actions {
                // Too late: the reason says when it was due, in words (the code is on the attempt).
                try await connection.query("""
                    UPDATE deliveries SET state = 'failed', reason = \(failure.message), updated_at = \(at),
                        lease_node = NULL, lease_until = NULL
                    WHERE id = \(delivery.id.rawValue)
                    """, logger: logger)
                try await insertAttempt(delivery.id, at: now, outcome: .failed, code: failure.code,
                                        message: failure.message, on: connection)
                delivery.reason = failure.message
            }
            delivery.state = transition.state
            if transition.state == .inflight { result.claimed.append(delivery) } else { result.expired.append(delivery) }
        }
        let ids = result.claimed.map(\.id.rawValue)
        if !ids.isEmpty {
            try await connection.query("""
                UPDATE deliveries SET state = 'inflight', attempts = attempts + 1, last_attempt_at = \(at),
                    first_attempt_at = COALESCE(first_attempt_at, \(at)), updated_at = \(at),
                    lease_node = \(node), lease_until = \(at + lease)
                WHERE id = ANY(\(ids))
                """, logger: logger)
        }
        return (result, takenOver)
    }

    /// Extends the leases of this node's deliveries in flight to `now + lease`. Returns how many.
    public func renewLeases(now: Date) async throws -> Int {
        let until = now.timeIntervalSince1970 + lease
        return try await transaction("renew leases", durable: false) { connection in
            try await self.changes("""
                UPDATE deliveries SET lease_until = \(until)
                WHERE state = 'inflight' AND lease_node = \(self.node) RETURNING 1
                """, on: connection)
        }
    }

    /// On start: this node's own deliveries left in flight (a restart of the same node) go
    /// back to pending. Another node's are never touched: they wait for its lease to run out.
    public func recoverInflight() async throws -> Int {
        try await transaction("recover in-flight deliveries") { connection in
            try await self.changes("""
                UPDATE deliveries SET state = 'pending', lease_node = NULL, lease_until = NULL
                WHERE state IN (\(unescaped: Self.sqlStates(DeliveryLifecycle.sources(of: .recover))))
                    AND lease_node = \(self.node)
                RETURNING 1
                """, on: connection)
        }
    }

    /// The earliest moment a delivery of one of `destinations` is due (nil: none queued),
    /// counting another node's lease running out as a moment one becomes due.
    public func nextDue(in destinations: Set<Destination>) async throws -> Date? {
        guard !destinations.isEmpty else { return nil }
        let names = destinations.map(\.rawValue)
        return try await read("find the next due delivery") { connection in
            try await self.value("""
                SELECT MIN(CASE WHEN state = 'inflight' THEN lease_until ELSE not_before END) FROM deliveries
                WHERE destination = ANY(\(names))
                    AND (state IN (\(unescaped: Self.claimable)) OR (state = 'inflight' AND lease_node <> \(self.node)))
                """, as: Double.self, on: connection).map(Self.date)
        }
    }

    /// Records outcomes of deliveries in flight, all in one transaction. Deliveries no
    /// longer in flight are left alone. A success is recorded whichever node holds the
    /// delivery now (it was sent: better not to send it again); a failure or interruption
    /// only by the node holding the lease (one that lost it to another node is stale).
    /// Returns how many changed.
    ///
    /// Successes, nearly all of them under load, are recorded in one statement with their
    /// attempts, however many there are: one round trip per group commit, not two per delivery.
    @discardableResult
    public func record(_ outcomes: [DeliveryOutcome]) async throws -> Int {
        var sent: [(id: String, at: Double, reply: String)] = []
        var others: [DeliveryOutcome] = []
        for outcome in outcomes {
            if case .recordSent(let reply) = outcome.action {
                sent.append((outcome.id.rawValue, outcome.at.timeIntervalSince1970, reply))
            } else {
                others.append(outcome)
            }
        }
        let successes = sent, rest = others
        return try await transaction("record \(outcomes.count) outcome(s)", durable: false) { connection in
            var changed = try await self.recordSent(successes, on: connection)
            for outcome in rest {
                changed += try await self.record(outcome, on: connection)
            }
            return changed
        }
    }

    /// Successes: sent whichever node holds the delivery now (see `record`), with an attempt
    /// each. Returns how many changed.
    private func recordSent(_ sent: [(id: String, at: Double, reply: String)],
                            on connection: PostgresConnection) async throws -> Int {
        guard !sent.isEmpty else { return 0 }
        return try await changes("""
            WITH done AS (
                UPDATE deliveries AS d SET state = 'sent', reason = NULL, sent_at = u.at, updated_at = u.at,
                    lease_node = NULL, lease_until = NULL
                FROM unnest(\(sent.map(\.id))::text[], \(sent.map(\.at))::float8[], \(sent.map(\.reply))::text[])
                    WITH ORDINALITY AS u(id, at, reply, n)
                WHERE d.id = u.id AND d.state = 'inflight'
                RETURNING d.id, u.at, u.reply, u.n)
            INSERT INTO attempts (delivery_id, at, outcome, code, message)
            SELECT id, at, 'sent', NULL, reply FROM done ORDER BY n
            RETURNING 1
            """, on: connection)
    }

    private func record(_ outcome: DeliveryOutcome, on connection: PostgresConnection) async throws -> Int {
        let id = outcome.id.rawValue, at = outcome.at.timeIntervalSince1970
        let mine = "state = 'inflight' AND lease_node = "
        let attempt: (AttemptOutcome, String?, String?)
        let changed: Int
        switch outcome.action {
        case .recordSent(let reply):
            changed = try await changes("""
                UPDATE deliveries SET state = 'sent', reason = NULL, sent_at = \(at), updated_at = \(at),
                    lease_node = NULL, lease_until = NULL
                WHERE id = \(id) AND state = 'inflight' RETURNING 1
                """, on: connection)
            attempt = (.sent, nil, reply)
        case .recordDeferred(let failure, let until):
            changed = try await changes("""
                UPDATE deliveries SET state = 'deferred', reason = \(failure.description),
                    not_before = \(until.timeIntervalSince1970), updated_at = \(at), lease_node = NULL, lease_until = NULL
                WHERE id = \(id) AND \(unescaped: mine)\(node) RETURNING 1
                """, on: connection)
            attempt = (.deferred, failure.code, failure.message)
        case .recordFailed(let failure):
            changed = try await changes("""
                UPDATE deliveries SET state = 'failed', reason = \(failure.description), updated_at = \(at),
                    lease_node = NULL, lease_until = NULL
                WHERE id = \(id) AND \(unescaped: mine)\(node) RETURNING 1
                """, on: connection)
            attempt = (.failed, failure.code, failure.message)
        case .recordInterrupted(let reason):
            // Not an attempt: the destination refused to work, not this delivery.
            return try await changes("""
                UPDATE deliveries SET state = 'pending', reason = \(reason), attempts = GREATEST(attempts - 1, 0),
                    updated_at = \(at), lease_node = NULL, lease_until = NULL
                WHERE id = \(id) AND \(unescaped: mine)\(node) RETURNING 1
                """, on: connection)
        case .transmit, .recordHeld, .recordPending:
            return 0
        }
        guard changed > 0 else { return 0 }
        try await insertAttempt(outcome.id, at: outcome.at, outcome: attempt.0, code: attempt.1,
                                message: attempt.2, on: connection)
        return 1
    }
}
