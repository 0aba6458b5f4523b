import HeroldStore
import Logging
import Synchronization

/// Group commit for delivery outcomes: transfers that finish while a write is under way
/// are recorded together in the next transaction. Under load this keeps each outcome's wait
/// for the journal to about one commit instead of one per transfer ahead of it, which is the
/// window in which a crash makes a delivery be repeated.
///
/// `submit` only queues (under a lock, no task switch): the transfer's lane goes on to its
/// next delivery at once, and the `done` callback says when the outcome is durable — the
/// dispatcher logs "delivered" only then.
///
/// A server has already answered each outcome, so a write that fails for a passing reason
/// (disk full, the journal busy beyond its timeout, an I/O error) is retried with backoff
/// until it succeeds — never given up while herold runs, or the delivery would stay in
/// flight and be sent again on the next start. It is logged once when the trouble starts
/// and once when it ends. Only an outcome the journal refuses for good (a bug, a damaged
/// file) is given up, alone, after the others in its batch are recorded.
///
/// Its writes run in their own task, so cancelling a caller (the shutdown bound) never
/// cancels the record of a transfer the server already answered.
final class OutcomeRecorder: Sendable {
    /// Called once per outcome: true when it is durable, false when the journal refused it
    /// for good (the delivery stays in flight and is taken up again on restart, same id).
    typealias Done = @Sendable (Bool) -> Void
    typealias Entry = (outcome: DeliveryOutcome, done: Done)

    private struct State {
        var queue: [Entry] = []
        var flushing = false
        /// `drain` callers, resumed when the queue is empty and no write is under way.
        var idle: [CheckedContinuation<Void, Never>] = []
    }

    private let journal: any DeliveryJournal
    private let logger: Logger
    private let state = Mutex(State())
    /// Waits between retries of a failing write: 0.1 s doubling to `maxBackoff`.
    private let firstBackoff: Duration
    private let maxBackoff: Duration

    /// Called when a write fails because the disk is full (frees the state reserve).
    private let onDiskFull: @Sendable () -> Void

    init(journal: any DeliveryJournal, logger: Logger, firstBackoff: Duration = .milliseconds(100),
         maxBackoff: Duration = .seconds(5), onDiskFull: @escaping @Sendable () -> Void = {}) {
        self.journal = journal
        self.onDiskFull = onDiskFull
        self.logger = logger
        self.firstBackoff = firstBackoff
        self.maxBackoff = maxBackoff
    }

    /// Queues an outcome for the next group commit; `done` is called after it.
    func submit(_ outcome: DeliveryOutcome, done: @escaping Done) {
        let start = state.withLock { state -> Bool in
            state.queue.append((outcome, done))
            guard !state.flushing else { return false }
            state.flushing = true
            return true
        }
        if start { Task { await self.flush() } }
    }

    /// Returns once the outcome is durable (true), or refused for good by the journal (false).
    func record(_ outcome: DeliveryOutcome) async -> Bool {
        await withCheckedContinuation { continuation in
            submit(outcome) { continuation.resume(returning: $0) }
        }
    }

    /// Returns once every outcome submitted so far is recorded (or refused for good).
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.flushing || !state.queue.isEmpty else { return true }
                state.idle.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// What is queued now, or nil (and not flushing any more) when nothing is.
    private func takeQueue() -> [Entry]? {
        let (batch, idle) = state.withLock { state -> ([Entry]?, [CheckedContinuation<Void, Never>]) in
            guard state.queue.isEmpty else {
                defer { state.queue = [] }
                return (state.queue, [])
            }
            state.flushing = false
            defer { state.idle = [] }
            return (nil, state.idle)
        }
        for waiter in idle { waiter.resume() }
        return batch
    }

    private func flush() async {
        var backoff = firstBackoff
        var failingSince: ContinuousClock.Instant?
        while let batch = takeQueue() {
            do {
                try await journal.record(batch.map(\.outcome))
                if let since = failingSince {
                    logger.notice("delivery outcomes recorded again after a journal failure", metadata: [
                        "count": "\(batch.count)", "waited": "\(ContinuousClock.now - since)",
                    ])
                    failingSince = nil
                    backoff = firstBackoff
                }
                for entry in batch { entry.done(true) }
            } catch let error as JournalError where error.isTransient {
                if error.isDiskFull { onDiskFull() }
                if failingSince == nil {
                    failingSince = .now
                    logger.critical("cannot record delivery outcomes in the journal; retrying until it works",
                                    metadata: ["error": "\(error)", "count": "\(batch.count)"])
                }
                requeue(batch)
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, maxBackoff)
            } catch {
                await recordOneByOne(batch, after: error)
            }
        }
    }

    /// Puts a batch back at the head of the queue, to be tried again.
    private func requeue(_ batch: [Entry]) {
        state.withLock { $0.queue = batch + $0.queue }
    }

    /// A batch the journal refused for good: each outcome on its own, so one bad outcome
    /// cannot keep the others in flight.
    private func recordOneByOne(_ batch: [Entry], after error: any Error) async {
        for entry in batch {
            do {
                try await journal.record([entry.outcome])
                entry.done(true)
            } catch let single as JournalError where single.isTransient {
                requeue([entry])
            } catch let single {
                logger.critical("the journal refused a delivery outcome; the delivery stays in flight until the next start",
                                metadata: ["delivery.id": "\(entry.outcome.id)", "error": "\(single)", "batch_error": "\(error)"])
                entry.done(false)
            }
        }
    }
}

/// Opens once `count` outcomes are through the recorder: what a lane's task waits for
/// before it starts its next transfer, so that, as when each transfer was claimed on its
/// own, a kill finds at most the transfers in flight and one outcome per slot answered but
/// not yet recorded (each a repeat after restart).
final class OutcomeLatch: Sendable {
    private struct State {
        var left: Int
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state: Mutex<State>

    init(count: Int) { state = Mutex(State(left: count)) }

    /// One outcome is through.
    func done() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.left -= 1
            guard state.left <= 0 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns once every outcome is through (at once if they are). One waiter at a time.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = state.withLock { state -> Bool in
                guard state.left > 0 else { return true }
                state.waiter = continuation
                return false
            }
            if open { continuation.resume() }
        }
    }
}
