import Foundation

/// What a failed transfer says about its destination, beyond its own delivery.
public enum DestinationSignal: String, Sendable, Equatable {
    /// Nothing: the destination answered (a recipient refused, a 4xx on one RCPT).
    case none
    /// The destination itself is down or overloaded: refused, unreachable, timed out, 421,
    /// HTTP 5xx / 429. The lane backs off.
    case down
    /// Nothing will work until an operator acts: login refused, TLS certificate not trusted.
    /// The lane pauses until a reload.
    case pause

    /// Reads a failure's code. The codes are `DeliveryFailure.code`'s stable names.
    public init(_ failure: DeliveryFailure) {
        let code = failure.code
        if failure.pausesDestination {
            self = .pause
        } else if Self.downCodes.contains(code) || (code.hasPrefix("http.5") && code.count == 8) {
            self = .down
        } else {
            self = .none
        }
    }

    /// DNS (6), refused or unreachable (7), timeout (28), empty reply (52), send and receive
    /// errors (55, 56), SMTP 421 (closing), HTTP 429 (too many requests).
    static let downCodes: Set<String> = [
        "curl.6", "curl.7", "curl.28", "curl.52", "curl.55", "curl.56", "smtp.421", "http.429",
    ]
}

/// The health of one destination's lane, as a pure state machine. Deliveries back off on
/// their own after a failure; a destination that is down backs off as a whole: no more
/// transfers until the gap has passed, then one probe at a time, the gap growing with each
/// failed probe up to `retry.max`; a success opens the lane fully. A refused login or an
/// untrusted certificate pauses the lane until an operator reloads the config.
public struct LaneHealth: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case open
        /// No transfer until `until`; then one probe.
        case backingOff(until: Date)
        /// One transfer is out to see whether the destination is back.
        case probing
        /// Nothing is sent until a reload (`SIGHUP`) or restart with a fixed config.
        case paused(reason: String)
    }

    public private(set) var state: State
    /// Failed probes in a row (the gap doubles with each).
    public private(set) var failures: Int
    /// The last failure that changed the lane, for `herold status`.
    public private(set) var lastError: String?

    public init(state: State = .open, failures: Int = 0, lastError: String? = nil) {
        self.state = state
        self.failures = failures
        self.lastError = lastError
    }

    public var isPaused: Bool {
        if case .paused = state { return true }
        return false
    }

    /// How many transfers may be out at once now (`limit` when open).
    public func allowance(limit: Int, now: Date) -> Int {
        switch state {
        case .open: return limit
        case .backingOff(let until): return now >= until ? 1 : 0
        case .probing: return 1
        case .paused: return 0
        }
    }

    /// When the lane may send again by itself (nil: now, or only after an operator acts).
    public var reopensAt: Date? {
        if case .backingOff(let until) = state { return until }
        return nil
    }

    /// A transfer starts: after the gap, it is the probe.
    public mutating func transferStarted(now: Date) {
        if case .backingOff(let until) = state, now >= until { state = .probing }
    }

    /// A transfer succeeded: the destination works.
    public mutating func succeeded() {
        guard !isPaused else { return }
        state = .open
        failures = 0
        lastError = nil
    }

    /// A transfer failed. Returns whether the lane changed state (worth recording).
    @discardableResult
    public mutating func failed(_ failure: DeliveryFailure, retry: RetryPolicy, now: Date, unit: Double) -> Bool {
        switch DestinationSignal(failure) {
        case .none:
            // The destination answered; only the delivery failed.
            let changed = state != .open && !isPaused
            succeeded()
            return changed
        case .pause:
            state = .paused(reason: failure.description)
            lastError = failure.description
            return true
        case .down:
            switch state {
            case .open, .probing:
                failures += 1
                lastError = failure.description
                let gap = retry.delay(attempt: failures, unit: unit)
                state = .backingOff(until: now.addingTimeInterval(max(gap, failure.retryAfter ?? 0)))
                return true
            case .backingOff, .paused:
                // Transfers started before the lane closed: they tell nothing new.
                return false
            }
        }
    }

    /// An operator fixed the config (reload): a paused lane opens again.
    public mutating func resume() {
        guard isPaused else { return }
        state = .open
        failures = 0
        lastError = nil
    }
}
