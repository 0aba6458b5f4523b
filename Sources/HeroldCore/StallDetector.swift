/// The watchdog's one question, without a clock of its own: has herold made progress
/// recently enough? Progress is a turn of the delivery loop or a transfer that ended (sent
/// or not). Transfers have their own timeouts, so while any runs, one of them must end
/// within the longest transfer's timeouts; an idle loop turns at least every few seconds.
/// A queue of slow transfers behind one connection (`max_connections: 1`) keeps making
/// progress, one transfer at a time, however long the queue is.
public struct StallDetector: Sendable, Equatable {
    /// How long without progress counts as stuck: the longest transfer's connect and total
    /// timeouts, plus slack.
    public var limit: Duration
    public private(set) var lastProgress: ContinuousClock.Instant

    public init(limit: Duration, start: ContinuousClock.Instant) {
        self.limit = limit
        self.lastProgress = start
    }

    public mutating func progress(at instant: ContinuousClock.Instant) {
        if instant > lastProgress { lastProgress = instant }
    }

    /// Whether to tell systemd all is well.
    public func isHealthy(at instant: ContinuousClock.Instant) -> Bool {
        instant - lastProgress <= limit
    }
}
