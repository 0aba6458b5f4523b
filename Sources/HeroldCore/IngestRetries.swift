import Foundation

/// Why a spool file could not be ingested, sorted by what happens to it next.
public enum IngestFailure: Sendable, Equatable {
    /// The file cannot be read or moved now (EACCES, EIO…): it stays in `new/` and is tried
    /// again with a growing delay; never rejected, because it may become readable.
    case unreadable(String)
    /// The journal refused this file's events with an error that will not pass by itself
    /// (a constraint): tried a few times, then rejected with this reason.
    case refused(String)
    /// The journal cannot take any event now (full disk, busy, I/O error): ingest pauses
    /// as a whole and every file stays in `new/`.
    case journalDown(String)
    /// The state disk is full: as `journalDown`, and the space kept in reserve is freed so
    /// the outcomes of deliveries already journaled can still be recorded.
    case noSpace(String)
}

/// The ingest loop's memory of files it had to leave for later and of a journal outage:
/// which file is due when, which one has been refused often enough to reject, when to
/// look again. Pure: the caller supplies the clock.
public struct IngestRetries: Sendable {
    public struct Policy: Sendable, Equatable {
        /// Refusals by the journal after which a file is rejected.
        public var refusals: Int
        /// Delay after a file's first failure; it doubles with each further one…
        public var firstDelay: TimeInterval
        /// …up to this.
        public var maxDelay: TimeInterval
        /// While the journal is down: how often one file is tried to see if it is back.
        public var probeEvery: TimeInterval

        public init(refusals: Int = 3, firstDelay: TimeInterval = 5, maxDelay: TimeInterval = 300,
                    probeEvery: TimeInterval = 5) {
            self.refusals = max(1, refusals)
            self.firstDelay = firstDelay
            self.maxDelay = maxDelay
            self.probeEvery = probeEvery
        }
    }

    /// What to do with a file that just failed.
    public enum Decision: Sendable, Equatable {
        /// Leave it in `new/` and try it again at `next`; `tries` failures so far.
        case later(next: Date, tries: Int)
        /// Move it to `rejected/` with this reason.
        case reject(reason: String)
        /// Ingest pauses until `next`; `firstNotice` only for the failure that began the outage.
        case paused(next: Date, firstNotice: Bool)
    }

    /// A file left in `new/` for later.
    public struct Waiting: Sendable, Equatable {
        public var tries: Int
        public var refusals: Int
        public var next: Date
        public var reason: String
    }

    /// The journal cannot take events since `since`; the next probe is at `next`.
    public struct Outage: Sendable, Equatable {
        public var since: Date
        public var next: Date
        public var reason: String
    }

    public let policy: Policy
    public private(set) var waiting: [String: Waiting] = [:]
    public private(set) var outage: Outage?

    public init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// The delay after the `tries`-th failure of one file.
    public func delay(afterTries tries: Int) -> TimeInterval {
        let exponent = Double(min(max(0, tries - 1), 30))
        return min(policy.maxDelay, policy.firstDelay * pow(2, exponent))
    }

    /// Records a failure of `name` and says what to do with the file.
    public mutating func failed(_ name: String, _ failure: IngestFailure, now: Date) -> Decision {
        var entry = waiting[name] ?? Waiting(tries: 0, refusals: 0, next: now, reason: "")
        switch failure {
        case .journalDown(let reason), .noSpace(let reason):
            let firstNotice = outage == nil
            outage = Outage(since: outage?.since ?? now, next: now.addingTimeInterval(policy.probeEvery), reason: reason)
            return .paused(next: now.addingTimeInterval(policy.probeEvery), firstNotice: firstNotice)
        case .unreadable(let reason):
            entry.reason = reason
        case .refused(let reason):
            entry.reason = reason
            entry.refusals += 1
            if entry.refusals >= policy.refusals {
                waiting[name] = nil
                return .reject(reason: "the journal refused the file's events \(entry.refusals) times: \(reason)")
            }
        }
        entry.tries += 1
        entry.next = now.addingTimeInterval(delay(afterTries: entry.tries))
        waiting[name] = entry
        return .later(next: entry.next, tries: entry.tries)
    }

    /// `name` left `new/` (accepted, rejected or gone): forget it. `journalWrote` says the
    /// journal committed a write for it, which ends an outage; returns the outage it ended.
    @discardableResult
    public mutating func settled(_ name: String, journalWrote: Bool) -> Outage? {
        waiting[name] = nil
        guard journalWrote, let ended = outage else { return nil }
        outage = nil
        return ended
    }

    /// Whether `name` may be tried at `now`: not while it waits out its delay, nor while the
    /// journal is down and its next probe has not come.
    public func isDue(_ name: String, now: Date) -> Bool {
        if let outage, now < outage.next { return false }
        guard let entry = waiting[name] else { return true }
        return entry.next <= now
    }

    /// When something becomes due again; nil when nothing waits.
    public var nextWake: Date? {
        let dates = waiting.values.map(\.next) + (outage.map { [$0.next] } ?? [])
        return dates.min()
    }

    /// After a listing of `new/`: forgets files no longer there.
    public mutating func keepOnly(_ names: Set<String>) {
        waiting = waiting.filter { names.contains($0.key) }
    }
}
