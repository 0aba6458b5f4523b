import Foundation
import GRDB
import HeroldCore

/// A destination's health as the journal keeps it, so a restart (or another process, such
/// as `herold status`) sees a paused or backing-off lane.
public struct LaneRecord: Sendable, Equatable {
    public var destination: Destination
    public var health: LaneHealth
    public var updatedAt: Date

    public init(destination: Destination, health: LaneHealth, updatedAt: Date) {
        self.destination = destination
        self.health = health
        self.updatedAt = updatedAt
    }
}

extension Journal {
    /// Every lane that is not simply open, or was not at its last change.
    public func lanes() async throws -> [LaneRecord] {
        try await read("read lanes") { db in
            try Row.fetchAll(db, sql: "SELECT destination, state, until, failures, reason, updated_at FROM lanes ORDER BY destination")
                .map { row in
                    let until: Double? = row["until"]
                    let reason: String? = row["reason"]
                    let state: LaneHealth.State
                    switch row["state"] as String {
                    case "backing-off": state = .backingOff(until: Date(timeIntervalSince1970: until ?? 0))
                    case "probing": state = .backingOff(until: Date(timeIntervalSince1970: 0))  // the probe died with the process
                    case "paused": state = .paused(reason: reason ?? "paused")
                    default: state = .open
                    }
                    return LaneRecord(destination: Destination(rawValue: row["destination"]),
                                      health: LaneHealth(state: state, failures: row["failures"], lastError: reason),
                                      updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
                }
        }
    }

    /// Records a lane's health (an open lane's row is kept, with no reason).
    public func save(_ lane: LaneRecord) async throws {
        let (state, until): (String, Double?) = switch lane.health.state {
        case .open: ("open", nil)
        case .backingOff(let until): ("backing-off", until.timeIntervalSince1970)
        case .probing: ("probing", nil)
        case .paused: ("paused", nil)
        }
        try await writeWithoutWaitingForDisk("record lane \(lane.destination)") { db in
            try db.execute(sql: """
                INSERT INTO lanes (destination, state, until, failures, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (destination) DO UPDATE SET state = excluded.state, until = excluded.until,
                    failures = excluded.failures, reason = excluded.reason, updated_at = excluded.updated_at
                """, arguments: [lane.destination.rawValue, state, until, lane.health.failures,
                                 lane.health.lastError, lane.updatedAt.timeIntervalSince1970])
        }
    }

    /// What waits for each destination, for `herold status`: queued (pending or deferred)
    /// deliveries, how many of them deferred, and the latest deferral's reason.
    public func queueSummary() async throws -> [DestinationQueue] {
        try await read("summarise the queue by destination") { db in
            try Row.fetchAll(db, sql: """
                SELECT destination, COUNT(*) AS queued, SUM(state = 'deferred') AS deferred,
                    MIN(not_before) AS next_due,
                    (SELECT reason FROM deliveries AS d WHERE d.destination = q.destination AND d.state = 'deferred'
                        ORDER BY updated_at DESC LIMIT 1) AS last_error
                FROM deliveries AS q WHERE state IN (\(Self.claimable)) GROUP BY destination ORDER BY destination
                """).map { row in
                DestinationQueue(destination: Destination(rawValue: row["destination"]), queued: row["queued"],
                                 deferred: row["deferred"] ?? 0,
                                 nextDue: (row["next_due"] as Double?).map(Date.init(timeIntervalSince1970:)),
                                 lastError: row["last_error"])
            }
        }
    }

    /// The earliest due moment of a queued delivery at or before `now` (the oldest one
    /// waiting), and the earliest of all queued ones.
    public func dueTimes(now: Date) async throws -> (oldestDue: Date?, next: Date?) {
        try await read("find due times") { db in
            let oldest = try Double.fetchOne(db, sql: """
                SELECT MIN(not_before) FROM deliveries WHERE state IN (\(Self.claimable)) AND not_before <= ?
                """, arguments: [now.timeIntervalSince1970])
            let next = try Double.fetchOne(db, sql: "SELECT MIN(not_before) FROM deliveries WHERE state IN (\(Self.claimable))")
            return (oldest.map(Date.init(timeIntervalSince1970:)), next.map(Date.init(timeIntervalSince1970:)))
        }
    }
}

/// One destination's queue in `herold status`.
public struct DestinationQueue: Sendable, Equatable {
    public var destination: Destination
    public var queued: Int
    public var deferred: Int
    public var nextDue: Date?
    public var lastError: String?

    public init(destination: Destination, queued: Int, deferred: Int, nextDue: Date?, lastError: String?) {
        self.destination = destination
        self.queued = queued
        self.deferred = deferred
        self.nextDue = nextDue
        self.lastError = lastError
    }
}
