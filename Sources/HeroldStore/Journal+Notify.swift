import Foundation
import GRDB
import HeroldCore

/// Something the admin should hear about: a delivery that failed or is held, or a paused destination.
public struct AdminProblem: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// A dead letter: failed permanently or past its lifetime.
        case failed
        /// Held: cannot be built (template, address, attachment), or held by an operator.
        case held
        /// A destination paused: nothing goes to it until the config is fixed and reloaded.
        case paused
    }

    public var kind: Kind
    /// The delivery (failed, held); nil for a paused destination.
    public var delivery: DeliveryID?
    public var destination: Destination
    /// The address or webhook endpoint (deliveries).
    public var recipient: String?
    public var rule: String?
    public var eventID: String?
    public var reason: String
    /// When it got this way; with the delivery or destination, what a summary covers.
    public var since: Date
    /// Deliveries queued behind a paused destination.
    public var waiting: Int

    public init(kind: Kind, delivery: DeliveryID? = nil, destination: Destination, recipient: String? = nil,
                rule: String? = nil, eventID: String? = nil, reason: String, since: Date, waiting: Int = 0) {
        self.kind = kind
        self.delivery = delivery
        self.destination = destination
        self.recipient = recipient
        self.rule = rule
        self.eventID = eventID
        self.reason = reason
        self.since = since
        self.waiting = waiting
    }

    /// What the journal remembers a summary told: the delivery (or `lane:DESTINATION`) as it was then.
    var subject: String { delivery?.rawValue ?? "lane:\(destination.rawValue)" }
}

/// The admin's summaries (`notify:`): what has gone wrong since the last one, and when that was,
/// kept in the journal so a restart neither resends a summary early nor repeats what it told.
/// A delivery told about is remembered with its `updated_at`: requeued and failed again, it is news.
extension Journal {
    /// Failed and held deliveries and paused destinations no summary has told about yet, oldest
    /// first, at most `limit` deliveries. Deliveries ended by a later event (replaced, withdrawn)
    /// are routine, not failures.
    public func untoldProblems(limit: Int) async throws -> [AdminProblem] {
        try await read("find problems for the admin") { db in
            let lanes = try Row.fetchAll(db, sql: """
                SELECT l.destination, l.reason, l.updated_at,
                    (SELECT COUNT(*) FROM deliveries AS d WHERE d.destination = l.destination
                        AND d.state IN (\(Self.claimable))) AS waiting
                FROM lanes AS l WHERE l.state = 'paused' AND NOT EXISTS (SELECT 1 FROM admin_notices AS n
                    WHERE n.subject = 'lane:' || l.destination AND n.changed_at = l.updated_at)
                ORDER BY l.updated_at, l.destination
                """).map { row in
                AdminProblem(kind: .paused, destination: Destination(rawValue: row["destination"]),
                             reason: row["reason"] ?? "paused", since: Date(timeIntervalSince1970: row["updated_at"]),
                             waiting: row["waiting"])
            }
            let deliveries = try Row.fetchAll(db, sql: """
                SELECT d.id, d.state, d.destination, d.recipient, d.rule, d.event_id, d.reason, d.updated_at
                FROM deliveries AS d WHERE d.state IN ('failed', 'held')
                    AND NOT (d.state = 'failed' AND (d.reason LIKE 'replaced by event %' OR d.reason LIKE 'withdrawn by event %'))
                    AND NOT EXISTS (SELECT 1 FROM admin_notices AS n WHERE n.subject = d.id AND n.changed_at = d.updated_at)
                ORDER BY d.updated_at, d.id LIMIT ?
                """, arguments: [max(0, limit)]).map { row in
                AdminProblem(kind: row["state"] == "held" ? .held : .failed, delivery: DeliveryID(rawValue: row["id"]),
                             destination: Destination(rawValue: row["destination"]), recipient: row["recipient"],
                             rule: row["rule"], eventID: row["event_id"], reason: row["reason"] ?? "",
                             since: Date(timeIntervalSince1970: row["updated_at"]))
            }
            return lanes + deliveries
        }
    }

    /// When the last summary went out; nil if none ever did.
    public func lastAdminSummary() async throws -> Date? {
        try await read("read the last admin summary") { db in
            try Double.fetchOne(db, sql: "SELECT sent_at FROM admin_summaries WHERE id = 1")
                .map(Date.init(timeIntervalSince1970:))
        }
    }

    /// Records a summary sent at `sentAt` telling `covered`, and forgets what has moved on since
    /// it was told (requeued, released, purged, a lane reopened), so the table stays small.
    public func recordAdminSummary(sentAt: Date, covered: [AdminProblem]) async throws {
        try await write("record the admin summary") { db in
            for problem in covered {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO admin_notices (subject, changed_at) VALUES (?, ?)")
                    .execute(arguments: [problem.subject, problem.since.timeIntervalSince1970])
            }
            try db.execute(sql: """
                INSERT INTO admin_summaries (id, sent_at, covered) VALUES (1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET sent_at = excluded.sent_at, covered = excluded.covered
                """, arguments: [sentAt.timeIntervalSince1970, covered.count])
            try db.execute(sql: """
                DELETE FROM admin_notices WHERE subject LIKE 'lane:%' AND NOT EXISTS (SELECT 1 FROM lanes AS l
                    WHERE 'lane:' || l.destination = admin_notices.subject AND l.updated_at = admin_notices.changed_at);
                DELETE FROM admin_notices WHERE subject NOT LIKE 'lane:%' AND NOT EXISTS (SELECT 1 FROM deliveries AS d
                    WHERE d.id = admin_notices.subject AND d.updated_at = admin_notices.changed_at);
                """)
        }
    }
}
