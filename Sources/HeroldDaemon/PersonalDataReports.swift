import Foundation
import HeroldCore
import HeroldStore

/// What `herold forget` prints: counts only, never an address or a message.
public struct ForgetReport: Sendable {
    public let erasure: ErasureReport
    /// Whether the WAL was copied back and truncated (no old page left in `-wal`).
    public let checkpointed: Bool
    public let pagesFreed: Int

    public var text: String {
        var lines = [
            "still-due deliveries to them cancelled (\"\(Journal.erasedReason)\"): \(erasure.cancelled)",
            "sent or failed deliveries to them erased: \(erasure.erased)",
            "events whose data named them erased: \(erasure.events)",
            "finished messages to others naming them erased: \(erasure.othersErased)",
            "still-due messages to others with their address or name replaced by \(Journal.erasedText): \(erasure.othersRewritten)",
            "server replies and reasons naming them erased: \(erasure.replies)",
            "journal checkpointed and free space zeroed: \(checkpointed ? "yes" : "no (a reader held the WAL; run forget again)")",
        ]
        if erasure.inFlight > 0 {
            lines.append("still in flight (erased, but a reply may still be recorded; run forget again): \(erasure.inFlight)")
        }
        return lines.joined(separator: "\n")
    }
}

/// What `herold history` prints: one line (or JSON object) per delivery.
public struct HistoryReport: Sendable {
    public let address: String
    public let entries: [HistoryEntry]
    public let retention: RetentionPolicy
    public let timezone: TimeZone
    public let showMessages: Bool

    /// The `--json` shape; its fields are stable (see the README's "Personal data").
    public var json: [String: Any] {
        [
            "address": address,
            "content_kept_days": Int(retention.content / RetentionPolicy.day),
            "records_kept_days": Int(retention.records / RetentionPolicy.day),
            "deliveries": entries.map(entryJSON),
        ]
    }

    private func entryJSON(_ entry: HistoryEntry) -> [String: Any] {
        let d = entry.delivery
        let finished = d.state == .sent || d.state == .failed
        var object: [String: Any] = [
            "id": d.id.rawValue, "relation": entry.relation.rawValue, "state": d.state.rawValue,
            "channel": d.channel.rawValue, "destination": entry.destination, "rule": d.rule,
            "event_source": d.event.source, "event_id": d.event.id, "event_type": entry.eventType ?? NSNull(),
            "planned_at": RFC3339.format(entry.plannedAt), "due_at": RFC3339.format(d.notBefore),
            "sent_at": entry.sentAt.map(RFC3339.format) ?? NSNull(),
            "finished_at": finished ? RFC3339.format(entry.updatedAt) : NSNull(),
            "subject": subject(entry) ?? NSNull(), "reason": d.reason ?? NSNull(),
            "content": entry.contentErasedAt == nil ? "kept" : "erased",
            "content_erased_at": entry.contentErasedAt.map(RFC3339.format) ?? NSNull(),
            "attempts": entry.attempts.map { ["at": RFC3339.format($0.at), "outcome": $0.outcome.rawValue,
                                              "code": $0.code ?? NSNull()] as [String: Any] },
        ]
        if showMessages { object["message"] = message(entry) ?? NSNull() }
        return object
    }

    public var text: String {
        guard !entries.isEmpty else { return "no deliveries to or naming this address in the journal" }
        return entries.map { entry in
            let d = entry.delivery
            var line = "\(WallClock.format(entry.sentAt ?? d.notBefore, in: timezone))  \(d.state.rawValue)  \(d.channel.rawValue)"
            line += "  rule=\(d.rule)  event=\(entry.eventType ?? d.event.id)"
            if entry.relation == .mentioned { line += "  (named in a message to \(d.recipient))" }
            line += "  " + (subject(entry).map { "„\($0)”" } ?? "(content erased)")
            if let reason = d.reason { line += "  reason: \(reason)" }
            line += "  id=\(d.id)"
            if showMessages, let message = message(entry) { line += "\n" + message.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n") }
            return line
        }.joined(separator: "\n")
    }

    private func subject(_ entry: HistoryEntry) -> String? {
        guard case .email(let email)? = entry.delivery.payload else { return nil }
        return email.subject
    }

    /// The message itself, while the content period keeps it.
    private func message(_ entry: HistoryEntry) -> String? {
        switch entry.delivery.payload {
        case .email(let email)?: return email.text
        case .webhook(let hook)?: return String(decoding: hook.body, as: UTF8.self)
        case nil: return nil
        }
    }
}
