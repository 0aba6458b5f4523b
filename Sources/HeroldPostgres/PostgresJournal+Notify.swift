import Foundation
import HeroldCore
import HeroldStore
import PostgresNIO

/// The admin's summaries (`notify:`), kept in the shared journal: whichever node sends the
/// next summary knows what the last one told.
extension PostgresJournal {
    /// Failed and held deliveries and paused destinations no summary has told about yet,
    /// oldest first, at most `limit` deliveries. Deliveries ended by a later event
    /// (replaced, withdrawn) are routine, not failures.
    public func untoldProblems(limit: Int) async throws -> [AdminProblem] {
        try await read("find problems for the admin") { connection in
            let lanes = try await self.rows("""
                SELECT l.destination, l.reason, l.updated_at,
                    (SELECT COUNT(*) FROM deliveries AS d WHERE d.destination = l.destination
                        AND d.state IN (\(unescaped: Self.claimable))) AS waiting
                FROM lanes AS l WHERE l.state = 'paused' AND NOT EXISTS (SELECT 1 FROM admin_notices AS n
                    WHERE n.subject = 'lane:' || l.destination AND n.changed_at = l.updated_at)
                ORDER BY l.updated_at, l.destination
                """, on: connection).map { row in
                AdminProblem(kind: .paused, destination: Destination(rawValue: try row["destination"].decode(String.self)),
                             reason: try row["reason"].decode(String?.self) ?? "paused",
                             since: Self.date(try row["updated_at"].decode(Double.self)), waiting: try row["waiting"].decode(Int.self))
            }
            let deliveries = try await self.rows("""
                SELECT d.id, d.state, d.destination, d.recipient, d.rule, d.event_id, d.reason, d.updated_at
                FROM deliveries AS d WHERE d.state IN ('failed', 'held')
                    AND NOT (d.state = 'failed' AND (d.reason LIKE 'replaced by event %' OR d.reason LIKE 'withdrawn by event %'))
                    AND NOT EXISTS (SELECT 1 FROM admin_notices AS n WHERE n.subject = d.id AND n.changed_at = d.updated_at)
                ORDER BY d.updated_at, d.id LIMIT \(max(0, limit))
                """, on: connection).map { row in
                AdminProblem(kind: try row["state"].decode(String.self) == "held" ? .held : .failed,
                             delivery: DeliveryID(rawValue: try row["id"].decode(String.self)),
                             destination: Destination(rawValue: try row["destination"].decode(String.self)),
                             recipient: try row["recipient"].decode(String.self), rule: try row["rule"].decode(String.self),
                             eventID: try row["event_id"].decode(String.self), reason: try row["reason"].decode(String?.self) ?? "",
                             since: Self.date(try row["updated_at"].decode(Double.self)))
            }
            return lanes + deliveries
        }
    }

    /// When the last summary went out (from any node); nil if none ever did.
    public func lastAdminSummary() async throws -> Date? {
        try await read("read the last admin summary") { connection in
            try await self.value("SELECT sent_at FROM admin_summaries WHERE id = 1", as: Double.self, on: connection).map(Self.date)
        }
    }

    /// Records a summary sent at `sentAt` telling `covered`, and forgets what has moved on
    /// since it was told, so the table stays small.
    public func recordAdminSummary(sentAt: Date, covered: [AdminProblem]) async throws {
        let subjects = covered.map { $0.delivery?.rawValue ?? "lane:\($0.destination.rawValue)" }
        let changes = covered.map(\.since.timeIntervalSince1970)
        try await transaction("record the admin summary") { connection in
            try await connection.query("""
                INSERT INTO admin_notices (subject, changed_at) SELECT * FROM unnest(\(subjects)::text[], \(changes)::float8[])
                ON CONFLICT DO NOTHING
                """, logger: self.logger)
            try await connection.query("""
                INSERT INTO admin_summaries (id, sent_at, covered) VALUES (1, \(sentAt.timeIntervalSince1970), \(covered.count))
                ON CONFLICT (id) DO UPDATE SET sent_at = excluded.sent_at, covered = excluded.covered
                """, logger: self.logger)
            try await connection.query("""
                DELETE FROM admin_notices WHERE subject LIKE 'lane:%' AND NOT EXISTS (SELECT 1 FROM lanes AS l
                    WHERE 'lane:' || l.destination = admin_notices.subject AND l.updated_at = admin_notices.changed_at)
                """, logger: self.logger)
            try await connection.query("""
                DELETE FROM admin_notices WHERE subject NOT LIKE 'lane:%' AND NOT EXISTS (SELECT 1 FROM deliveries AS d
                    WHERE d.id = admin_notices.subject AND d.updated_at = admin_notices.changed_at)
                """, logger: self.logger)
        }
    }
}
