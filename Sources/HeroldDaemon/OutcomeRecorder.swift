import HeroldStore
import Logging

/// Group commit for delivery outcomes: transfers that finish while a write is under way
/// are recorded together in the next transaction. Under load this keeps each outcome's wait
/// for the journal to about one fsync instead of one per transfer ahead of it, which is the
/// window in which a crash makes a delivery be repeated.
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
actor OutcomeRecorder {
    private let journal: any DeliveryJournal
    private let logger: Logger
    private var queue: [(DeliveryOutcome, CheckedContinuation<Bool, Never>)] = []
    private var flushing = false
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

    /// Returns once the outcome is durable (true), or refused for good by the journal
    /// (false: the delivery stays in flight and is taken up again on restart, same id).
    func record(_ outcome: DeliveryOutcome) async -> Bool {
        await withCheckedContinuation { continuation in
            queue.append((outcome, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        var backoff = firstBackoff
        var failingSince: ContinuousClock.Instant?
        while !queue.isEmpty {
            let batch = queue
            queue = []
            do {
                try await journal.record(batch.map(\.0))
                if let since = failingSince {
                    logger.notice("delivery outcomes recorded again after a journal failure", metadata: [
                        "count": "\(batch.count)", "waited": "\(ContinuousClock.now - since)",
                    ])
                    failingSince = nil
                    backoff = firstBackoff
                }
                for (_, continuation) in batch { continuation.resume(returning: true) }
            } catch let error as JournalError where error.isTransient {
                if error.isDiskFull { onDiskFull() }
                if failingSince == nil {
                    failingSince = .now
                    logger.critical("cannot record delivery outcomes in the journal; retrying until it works",
                                    metadata: ["error": "\(error)", "count": "\(batch.count)"])
                }
                queue = batch + queue
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, maxBackoff)
            } catch {
                await recordOneByOne(batch, after: error)
            }
        }
        flushing = false
    }

    /// A batch the journal refused for good: each outcome on its own, so one bad outcome
    /// cannot keep the others in flight.
    private func recordOneByOne(_ batch: [(DeliveryOutcome, CheckedContinuation<Bool, Never>)], after error: any Error) async {
        for (outcome, continuation) in batch {
            do {
                try await journal.record([outcome])
                continuation.resume(returning: true)
            } catch let single as JournalError where single.isTransient {
                queue.append((outcome, continuation))
            } catch let single {
                logger.critical("the journal refused a delivery outcome; the delivery stays in flight until the next start",
                                metadata: ["delivery.id": "\(outcome.id)", "error": "\(single)", "batch_error": "\(error)"])
                continuation.resume(returning: false)
            }
        }
    }
}
