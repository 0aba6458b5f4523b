import Foundation
import HeroldCore
import HeroldStore
import PostgresNIO

/// What `herold status`, `upcoming`, the metrics and the admin's summaries read.
extension PostgresJournal {
    /// How many deliveries are in each state (every state present, zero if none).
    public func counts() async throws -> [DeliveryState: Int] {
        try await read("count deliveries") { connection in
            var counts = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0, 0) })
            for row in try await self.rows("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state", on: connection) {
                counts[try Self.state(row["state"].decode(String.self))] = try row["n"].decode(Int.self)
            }
            return counts
        }
    }

    /// Deliveries in the given states, earliest `notBefore` first.
    public func deliveries(in states: Set<DeliveryState>, limit: Int) async throws -> [Delivery] {
        let names = states.map(\.rawValue).sorted()
        guard !names.isEmpty else { return [] }
        return try await read("list deliveries") { connection in
            try await self.rows("""
                SELECT \(unescaped: Self.deliveryColumns) FROM deliveries WHERE state = ANY(\(names))
                ORDER BY not_before, created_at, id LIMIT \(max(0, limit))
                """, on: connection).map(Self.delivery(from:))
        }
    }

    /// One delivery, or nil.
    public func delivery(_ id: DeliveryID) async throws -> Delivery? {
        try await read("look up delivery \(id)") { connection in
            try await self.rows("SELECT \(unescaped: Self.deliveryColumns) FROM deliveries WHERE id = \(id.rawValue)",
                                on: connection).first.map(Self.delivery(from:))
        }
    }

    /// Every attempt of a delivery, oldest first.
    public func attempts(for id: DeliveryID) async throws -> [Attempt] {
        try await read("list attempts of \(id)") { connection in
            try await self.rows("""
                SELECT delivery_id, at, outcome, code, message FROM attempts WHERE delivery_id = \(id.rawValue)
                ORDER BY at, seq
                """, on: connection).map(Self.attempt(from:))
        }
    }

    /// Which node holds each delivery in flight now, and until when (for `herold status`).
    public func leases() async throws -> [DeliveryID: (node: String, until: Date)] {
        try await read("list leases") { connection in
            var leases: [DeliveryID: (node: String, until: Date)] = [:]
            for row in try await self.rows("""
                SELECT id, lease_node, lease_until FROM deliveries WHERE state = 'inflight' AND lease_node IS NOT NULL
                """, on: connection) {
                leases[DeliveryID(rawValue: try row["id"].decode(String.self))] =
                    (try row["lease_node"].decode(String.self), Self.date(try row["lease_until"].decode(Double?.self) ?? 0))
            }
            return leases
        }
    }

    /// Which node holds how many deliveries in flight, and until when.
    public func holders() async throws -> [NodeHold] {
        try await read("list the nodes holding deliveries") { connection in
            try await self.rows("""
                SELECT lease_node, COUNT(*) AS held, MAX(lease_until) AS until FROM deliveries
                WHERE state = 'inflight' AND lease_node IS NOT NULL GROUP BY lease_node ORDER BY lease_node
                """, on: connection).map { row in
                NodeHold(node: try row["lease_node"].decode(String.self), deliveries: try row["held"].decode(Int.self),
                         leaseUntil: Self.date(try row["until"].decode(Double?.self) ?? 0))
            }
        }
    }

    /// What waits for each destination: queued deliveries, how many deferred, the next due
    /// moment and the latest deferral's reason.
    public func queueSummary() async throws -> [DestinationQueue] {
        try await read("summarise the queue by destination") { connection in
            try await self.rows("""
                SELECT destination, COUNT(*) AS queued, COUNT(*) FILTER (WHERE state = 'deferred') AS deferred,
                    MIN(not_before) AS next_due,
                    (SELECT reason FROM deliveries AS d WHERE d.destination = q.destination AND d.state = 'deferred'
                        ORDER BY updated_at DESC LIMIT 1) AS last_error
                FROM deliveries AS q WHERE state IN (\(unescaped: Self.claimable)) GROUP BY destination ORDER BY destination
                """, on: connection).map { row in
                DestinationQueue(destination: Destination(rawValue: try row["destination"].decode(String.self)),
                                 queued: try row["queued"].decode(Int.self), deferred: try row["deferred"].decode(Int.self),
                                 nextDue: try row["next_due"].decode(Double?.self).map(Self.date),
                                 lastError: try row["last_error"].decode(String?.self))
            }
        }
    }

    /// The earliest due moment of a queued delivery at or before `now`, and the earliest of all.
    public func dueTimes(now: Date) async throws -> (oldestDue: Date?, next: Date?) {
        try await read("find due times") { connection in
            let row = try await self.rows("""
                SELECT MIN(not_before) FILTER (WHERE not_before <= \(now.timeIntervalSince1970)) AS oldest,
                    MIN(not_before) AS next
                FROM deliveries WHERE state IN (\(unescaped: Self.claimable))
                """, on: connection).first
            return (try row?["oldest"].decode(Double?.self).map(Self.date), try row?["next"].decode(Double?.self).map(Self.date))
        }
    }

    /// Deliveries by destination and state, for the metrics' gauges.
    public func tally() async throws -> [DeliveryTally] {
        try await read("count deliveries by destination and state") { connection in
            try await self.rows("""
                SELECT destination, state, COUNT(*) AS n FROM deliveries GROUP BY destination, state ORDER BY destination, state
                """, on: connection).map { row in
                DeliveryTally(destination: Destination(rawValue: try row["destination"].decode(String.self)),
                              state: try Self.state(row["state"].decode(String.self)), count: try row["n"].decode(Int.self))
            }
        }
    }
}
