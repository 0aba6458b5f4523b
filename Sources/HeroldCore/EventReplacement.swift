import Foundation

/// The rule for updates and withdrawals: a later event with the same `source`, `type` and
/// `subject` replaces the earlier ones' still-pending deliveries; with `data.cancelled: true`
/// it only withdraws them and plans nothing of its own.
extension CloudEvent {
    /// Whether this event withdraws earlier ones (`"data": {"cancelled": true, ...}`).
    public var isWithdrawal: Bool { value(at: "data.cancelled") == .bool(true) }

    /// Whether this event replaces earlier ones: only events with a subject do.
    public var replacesEarlier: Bool { !(subject ?? "").isEmpty }

    /// The reason recorded on the deliveries this event replaces or withdraws.
    public var replacementReason: String {
        isWithdrawal ? "withdrawn by event \(id)" : "replaced by event \(id)"
    }
}
