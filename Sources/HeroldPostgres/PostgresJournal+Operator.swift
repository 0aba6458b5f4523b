import Foundation
import HeroldCore
import HeroldStore
import PostgresNIO

/// Operator commands, from any node: each a conditional update allowed only from the states
/// `DeliveryLifecycle` permits, so they never touch a delivery another node is sending.
extension PostgresJournal {
    /// Puts failed or held deliveries back to pending, due no earlier than `now`, with a
    /// fresh attempt count (their attempt history stays). Returns how many changed.
    public func requeue(_ ids: [DeliveryID], now: Date) async throws -> Int {
        try await resetToPending(ids, now: now, allowedBy: .requeue, operation: "requeue")
    }

    /// Lets held deliveries go again: pending, due no earlier than `now`, fresh attempt count.
    public func release(_ ids: [DeliveryID], now: Date) async throws -> Int {
        try await resetToPending(ids, now: now, allowedBy: .release, operation: "release")
    }

    /// Puts every failed delivery back to pending (see `requeue`). Returns how many.
    public func requeueAllFailed(now: Date) async throws -> Int {
        try await resetToPending(nil, now: now, allowedBy: .requeue, operation: "requeue all failed",
                                 only: [.failed])
    }

    /// Holds pending or deferred deliveries for an operator, with the reason. Returns how many changed.
    public func hold(_ ids: [DeliveryID], reason: String, now: Date) async throws -> Int {
        let names = ids.map(\.rawValue)
        return try await transaction("hold \(ids.count) deliveries") { connection in
            try await self.changes("""
                UPDATE deliveries SET state = 'held', reason = \(reason), updated_at = \(now.timeIntervalSince1970)
                WHERE id = ANY(\(names))
                    AND state IN (\(unescaped: Self.sqlStates(DeliveryLifecycle.sources(of: .hold))))
                RETURNING 1
                """, on: connection)
        }
    }

    /// Deletes failed or held deliveries with their attempts (the event stays, so it is
    /// still a duplicate if it arrives again). Returns how many were deleted.
    public func purge(_ ids: [DeliveryID]) async throws -> Int {
        let names = ids.map(\.rawValue)
        return try await transaction("purge \(ids.count) deliveries") { connection in
            try await self.changes("""
                DELETE FROM deliveries WHERE id = ANY(\(names)) AND state IN (\(unescaped: Self.sqlStates(Journal.purgeableStates)))
                RETURNING 1
                """, on: connection)
        }
    }

    /// Deletes every failed delivery with its attempts. Returns how many.
    public func purgeAllFailed() async throws -> Int {
        try await transaction("purge all failed deliveries") { connection in
            try await self.changes("DELETE FROM deliveries WHERE state = 'failed' RETURNING 1", on: connection)
        }
    }

    /// Back to pending with a fresh attempt count, due no earlier than `now`, for those of
    /// `ids` (every one when nil) whose state `event` may leave (and in `only`, when given).
    private func resetToPending(_ ids: [DeliveryID]?, now: Date, allowedBy event: DeliveryEvent.Kind,
                                operation: String, only: Set<DeliveryState>? = nil) async throws -> Int {
        let at = now.timeIntervalSince1970
        let states = Self.sqlStates(DeliveryLifecycle.sources(of: event).intersection(only ?? Set(DeliveryState.allCases)))
        let names = ids?.map(\.rawValue)
        return try await transaction("\(operation) \(ids?.count ?? 0) deliveries") { connection in
            try await self.changes("""
                UPDATE deliveries SET state = 'pending', reason = NULL, attempts = 0, first_attempt_at = NULL,
                    not_before = GREATEST(not_before, \(at)), updated_at = \(at)
                WHERE state IN (\(unescaped: states)) AND (\(names)::text[] IS NULL OR id = ANY(\(names)))
                RETURNING 1
                """, on: connection)
        }
    }
}
