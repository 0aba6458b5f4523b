import HeroldStore
import Logging

/// Group commit for delivery outcomes: transfers that finish while a write is under way
/// are recorded together in the next transaction. Under load this keeps each outcome's wait
/// for the journal to about one fsync instead of one per transfer ahead of it, which is the
/// window in which a crash makes a delivery be repeated.
///
/// Its writes run in their own task, so cancelling a caller (the shutdown bound) never
/// cancels the record of a transfer the server already answered.
actor OutcomeRecorder {
    private let journal: Journal
    private let logger: Logger
    private var queue: [(DeliveryOutcome, CheckedContinuation<Bool, Never>)] = []
    private var flushing = false

    init(journal: Journal, logger: Logger) {
        self.journal = journal
        self.logger = logger
    }

    /// Returns once the outcome is durable (true), or could not be written (false: the
    /// delivery stays in flight and is taken up again on restart, with the same id).
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
        while !queue.isEmpty {
            let batch = queue
            queue = []
            var ok = true
            do {
                try await journal.record(batch.map(\.0))
            } catch {
                ok = false
                logger.critical("cannot record delivery outcomes in the journal",
                                metadata: ["error": "\(error)", "count": "\(batch.count)"])
            }
            for (_, continuation) in batch { continuation.resume(returning: ok) }
        }
        flushing = false
    }
}
