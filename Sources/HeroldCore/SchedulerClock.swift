import Foundation
import Synchronization

/// The scheduler's source of "now": the system clock in the daemon, a manual one in tests,
/// so years, DST changes and leap days are tested without sleeping.
public protocol SchedulerClock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The real time.
public struct SystemClock: SchedulerClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that moves only when told to.
public final class ManualClock: SchedulerClock {
    private let current: Mutex<Date>

    /// A clock standing at `start`.
    public init(_ start: Date) { current = Mutex(start) }

    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock to `instant` (backwards too, like a corrected system clock).
    public func set(_ instant: Date) { current.withLock { $0 = instant } }

    /// Moves the clock forward by `seconds`.
    public func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

extension SchedulerClock {
    /// The clock as the closure the daemon's parts take.
    public var closure: @Sendable () -> Date { { self.now() } }
}
