import Foundation

/// When to try a failed delivery again, and when to give up. Pure: the caller supplies
/// the clock and the randomness.
public struct RetryPolicy: Sendable, Equatable {
    /// Delay before the first retry.
    public var firstDelay: TimeInterval
    /// Longest delay between two tries.
    public var maxDelay: TimeInterval
    /// After this long past its due time a delivery stops being retried and fails.
    public var lifetime: TimeInterval
    /// Fraction of the delay randomised, so one outage does not make every delivery retry in the same second.
    public var jitter: Double
    /// Largest server `Retry-After` honoured.
    public var maxRetryAfter: TimeInterval

    public init(firstDelay: TimeInterval = 60, maxDelay: TimeInterval = 3600, lifetime: TimeInterval = 5 * 86400,
                jitter: Double = 0.25, maxRetryAfter: TimeInterval = 6 * 3600) {
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
        self.lifetime = lifetime
        self.jitter = jitter
        self.maxRetryAfter = maxRetryAfter
    }

    public enum Decision: Sendable, Equatable {
        case retry(at: Date)
        case giveUp(reason: String)
    }

    /// The wait after failure number `attempt` (1-based): `first × 2^(attempt-1)`, capped at
    /// `max`, varied by ±`jitter` (`unit` is a random number in [0, 1)).
    public func delay(attempt: Int, unit: Double) -> TimeInterval {
        let exponent = Double(max(0, attempt - 1))
        let delay = min(maxDelay, firstDelay * pow(2, min(exponent, 30)))
        return delay * (1 - jitter + 2 * jitter * unit)
    }

    /// What to do after attempt number `attempts` (1-based) failed with `failure`.
    /// `unit` is a random number in [0, 1).
    public func decide(after failure: DeliveryFailure, attempts: Int, dueSince: Date, now: Date, unit: Double) -> Decision {
        guard failure.kind == .transient else { return .giveUp(reason: failure.description) }
        var delay = delay(attempt: attempts, unit: unit)
        if let retryAfter = failure.retryAfter {
            delay = max(delay, min(retryAfter, maxRetryAfter))
        }
        let next = now.addingTimeInterval(delay)
        guard next.timeIntervalSince(dueSince) <= lifetime else {
            return .giveUp(reason: "gave up after \(attempts) attempts over \(Int(now.timeIntervalSince(dueSince) / 60)) min; last: \(failure.description)")
        }
        return .retry(at: next)
    }
}
