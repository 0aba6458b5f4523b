import Foundation

/// One pending wake-up at most: the ingest loop asks for a rescan at a time as often as it
/// likes (after every failed file); only the earliest is kept, and none is added while
/// one has gone off and its rescan has not begun. Pure: the caller owns the timer.
public struct WakeSchedule: Sendable, Equatable {
    /// When the armed timer goes off; nil when none is armed.
    public private(set) var armed: Date?
    /// The timer went off and its rescan has not begun yet.
    public private(set) var delivered = false

    public init() {}

    /// Asks for a wake-up at `date`. True when the caller must (re)arm its timer for
    /// `date` (cancelling any earlier one); false when a pending wake already covers it.
    public mutating func request(_ date: Date) -> Bool {
        if delivered { return false }
        if let armed, armed <= date { return false }
        armed = date
        return true
    }

    /// The armed timer went off; its rescan is on its way.
    public mutating func fired() {
        armed = nil
        delivered = true
    }

    /// The rescan that the timer asked for begins: later requests arm a timer again.
    public mutating func began() {
        delivered = false
    }

    /// Whether a wake-up is pending (armed or delivered and not yet begun).
    public var isPending: Bool { armed != nil || delivered }
}
