import Foundation
import HeroldCore
import HeroldRules
import HeroldStore

/// One message `herold preview` shows.
public struct PreviewItem: Sendable {
    public var json: [String: Any] { fields.mapValues { $0 } }
    public let text: String
    private let fields: [String: any Sendable]
    /// The exact bytes the outbox would write (`ID.eml` / `ID.http`), for `preview --out`.
    public private(set) var file: (name: String, bytes: Data)?

    init(delivery: Delivery, runtime: Runtime, now: Date) {
        var f: [String: any Sendable] = [
            "delivery_id": delivery.id.rawValue,
            "rule": delivery.rule,
            "channel": delivery.channel.rawValue,
            "recipient": delivery.recipient,
            "state": delivery.state.rawValue,
            "send_at": RFC3339.format(delivery.notBefore),
            "send_at_local": WallClock.format(delivery.notBefore, in: runtime.config.timezone),
        ]
        var lines = ["── \(delivery.channel.rawValue) to \(delivery.recipient)  (rule \(delivery.rule); "
            + (delivery.notBefore <= now ? "sent at once" : "sent \(WallClock.format(delivery.notBefore, in: runtime.config.timezone))") + ")"]
        if let reason = delivery.reason { f["reason"] = reason }
        if let expiresAt = delivery.expiresAt, expiresAt <= max(delivery.notBefore, now) {
            let why = "too late: expired at \(WallClock.format(expiresAt, in: runtime.config.timezone))"
                + " (the rule's not_after counts from the event's time); it would not be sent"
            f["state"] = DeliveryState.failed.rawValue
            f["not_sent"] = why
            lines.append("NOT SENT: \(why)")
        }
        switch delivery.payload {
        case .email(let email)?:
            f["from"] = email.from
            f["to"] = email.to
            f["subject"] = email.subject
            f["text"] = email.text
            switch runtime.composeEmail(delivery, email: email, date: delivery.notBefore > now ? delivery.notBefore : now) {
            case .success(let bytes):
                let raw = String(decoding: bytes, as: UTF8.self)
                f["message"] = raw
                file = ("\(delivery.id.rawValue).eml", bytes)
                lines.append("From: \(email.from)\nTo: \(email.to)\nSubject: \(email.subject)\n\n\(email.text)")
            case .failure(let failure):
                f["state"] = DeliveryState.held.rawValue
                f["reason"] = failure.message
                lines.append("HELD: \(failure.message)")
            }
        case .webhook(let hook)?:
            f["endpoint"] = hook.endpoint
            f["url"] = runtime.config.webhooks[hook.endpoint]?.url ?? ""
            f["content_type"] = hook.contentType
            let body = String(decoding: hook.body, as: UTF8.self)
            f["body"] = body
            lines.append("POST \(runtime.config.webhooks[hook.endpoint]?.url ?? "?")\nContent-Type: \(hook.contentType)\n\n\(body)")
            if let request = runtime.previewRequest(delivery, hook: hook, date: delivery.notBefore > now ? delivery.notBefore : now) {
                file = ("\(delivery.id.rawValue).http", request.httpBytes())
            }
        case nil:
            lines.append("HELD: \(delivery.reason ?? "not rendered")")
        }
        fields = f
        text = lines.joined(separator: "\n") + "\n"
    }
}

/// What `herold status` reports: counts by state, the queue by destination with each
/// lane's health and last error, and every failed or held delivery. Aggregates in SQL, so
/// it answers at once with a backlog of any size.
public struct StatusReport: Sendable {
    public let counts: [DeliveryState: Int]
    /// The earliest due moment among deliveries already due and still waiting (nil: none).
    public let oldestPending: Date?
    public let nextAttempt: Date?
    public let destinations: [DestinationQueue]
    public let lanes: [LaneRecord]
    public let problems: [Delivery]
    /// On a shared journal: which node holds what in flight.
    public let holders: [NodeHold]

    static func make(journal: any DeliveryJournal, now: Date) async throws -> StatusReport {
        let counts = try await journal.counts()
        let due = try await journal.dueTimes(now: now)
        return StatusReport(
            counts: counts, oldestPending: due.oldestDue, nextAttempt: due.next,
            destinations: try await journal.queueSummary(),
            lanes: try await journal.lanes().filter { $0.health.state != .open },
            problems: try await journal.deliveries(in: [.failed, .held], limit: 1000),
            holders: try await journal.holders())
    }

    private func lane(_ destination: Destination) -> LaneRecord? { lanes.first { $0.destination == destination } }

    private static func describe(_ health: LaneHealth) -> String {
        switch health.state {
        case .open: return "open"
        case .backingOff(let until): return "backing off until \(RFC3339.format(until)) (\(health.failures) failed probes)"
        case .probing: return "probing"
        case .paused: return "PAUSED until the config is fixed and reloaded (systemctl reload herold)"
        }
    }

    public var json: [String: Any] {
        var counted: [String: Int] = [:]
        for state in DeliveryState.allCases { counted[state.rawValue] = counts[state] ?? 0 }
        var result: [String: Any] = ["counts": counted]
        if let oldestPending { result["oldest_pending"] = RFC3339.format(oldestPending) }
        if let nextAttempt { result["next_attempt"] = RFC3339.format(nextAttempt) }
        let named = Set(destinations.map(\.destination))
        result["destinations"] = (destinations.map(\.destination) + lanes.map(\.destination).filter { !named.contains($0) })
            .map { destination -> [String: Any] in
                let queue = destinations.first { $0.destination == destination }
                let health = lane(destination)?.health ?? LaneHealth()
                var entry: [String: Any] = [
                    "destination": destination.rawValue, "queued": queue?.queued ?? 0, "deferred": queue?.deferred ?? 0,
                    "lane": Self.laneState(health),
                ]
                if let error = queue?.lastError ?? health.lastError { entry["last_error"] = error }
                if let reopens = health.reopensAt { entry["lane_reopens_at"] = RFC3339.format(reopens) }
                if let next = queue?.nextDue { entry["next_due"] = RFC3339.format(next) }
                return entry
            }
        if !holders.isEmpty {
            result["nodes"] = holders.map { hold -> [String: Any] in
                ["node": hold.node, "inflight": hold.deliveries, "lease_until": RFC3339.format(hold.leaseUntil)]
            }
        }
        result["problems"] = problems.map { d -> [String: Any] in
            [
                "id": d.id.rawValue, "state": d.state.rawValue, "rule": d.rule, "channel": d.channel.rawValue,
                "recipient": d.recipient, "reason": d.reason ?? "", "attempts": d.attempts,
                "event_source": d.event.source, "event_id": d.event.id,
            ]
        }
        return result
    }

    static func laneState(_ health: LaneHealth) -> String {
        switch health.state {
        case .open: return "open"
        case .backingOff: return "backing-off"
        case .probing: return "probing"
        case .paused: return "paused"
        }
    }

    public var text: String {
        var lines = ["deliveries: " + DeliveryState.allCases.map { "\($0.rawValue) \(counts[$0] ?? 0)" }.joined(separator: ", ")]
        lines.append("oldest pending: " + (oldestPending.map(RFC3339.format) ?? "none"))
        lines.append("next attempt:   " + (nextAttempt.map(RFC3339.format) ?? "none"))
        let named = Set(destinations.map(\.destination))
        let all = destinations.map(\.destination) + lanes.map(\.destination).filter { !named.contains($0) }
        if !all.isEmpty {
            lines.append("")
            lines.append("waiting, by destination:")
            for destination in all {
                let queue = destinations.first { $0.destination == destination }
                let health = lane(destination)?.health ?? LaneHealth()
                lines.append("  \(destination)  queued \(queue?.queued ?? 0), deferred \(queue?.deferred ?? 0)  lane: \(Self.describe(health))")
                if let error = health.lastError ?? queue?.lastError { lines.append("      last error: \(error)") }
            }
        }
        if !holders.isEmpty {
            lines.append("")
            lines.append("in flight, by node (another node takes them up once the lease has run out):")
            for hold in holders {
                lines.append("  \(hold.node)  \(hold.deliveries) in flight, lease until \(RFC3339.format(hold.leaseUntil))")
            }
        }
        if !problems.isEmpty {
            lines.append("")
            lines.append("failed and held (herold requeue ID to try again):")
            for d in problems {
                lines.append("  \(d.id)  \(d.state.rawValue)  \(d.channel.rawValue) → \(d.recipient)  rule \(d.rule)  event \(d.event.id)")
                lines.append("      \(d.reason ?? "")")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Local wall-clock time for people: `2026-12-01 09:00 +01:00`.
enum WallClock {
    static func format(_ date: Date, in zone: TimeZone) -> String {
        let local = LocalTime.parts(of: date, in: zone)
        let offset = zone.secondsFromGMT(for: date) / 60
        return String(format: "%@ %02d:%02d %@%02d:%02d", local.date.description, local.hour, local.minute,
                      offset < 0 ? "-" : "+", abs(offset) / 60, abs(offset) % 60)
    }
}
