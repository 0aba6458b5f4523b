import Foundation
import HeroldCore
import HeroldStore
import PostgresNIO

/// Lanes' health, shared by every node through the table: a lane one node pauses or backs
/// off is paused or backing off for all.
extension PostgresJournal {
    /// Every lane recorded (open ones too, with no reason).
    public func lanes() async throws -> [LaneRecord] {
        try await read("read lanes") { connection in
            try await self.rows("SELECT destination, state, until, failures, reason, updated_at FROM lanes ORDER BY destination",
                                on: connection).map { row in
                let reason = try row["reason"].decode(String?.self)
                let until = try row["until"].decode(Double?.self)
                let state: LaneHealth.State
                switch try row["state"].decode(String.self) {
                case "backing-off": state = .backingOff(until: Self.date(until ?? 0))
                case "probing": state = .backingOff(until: Self.date(0))  // the probe's node decides; due again now
                case "paused": state = .paused(reason: reason ?? "paused")
                default: state = .open
                }
                return LaneRecord(destination: Destination(rawValue: try row["destination"].decode(String.self)),
                                  health: LaneHealth(state: state, failures: try row["failures"].decode(Int.self), lastError: reason),
                                  updatedAt: Self.date(try row["updated_at"].decode(Double.self)))
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
        try await transaction("record lane \(lane.destination)", durable: false) { connection in
            try await connection.query("""
                INSERT INTO lanes (destination, state, until, failures, reason, updated_at)
                VALUES (\(lane.destination.rawValue), \(state), \(until), \(lane.health.failures), \(lane.health.lastError),
                        \(lane.updatedAt.timeIntervalSince1970))
                ON CONFLICT (destination) DO UPDATE SET state = excluded.state, until = excluded.until,
                    failures = excluded.failures, reason = excluded.reason, updated_at = excluded.updated_at
                """, logger: self.logger)
        }
    }
}
