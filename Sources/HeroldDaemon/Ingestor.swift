import Foundation
import HeroldCore
import HeroldSpool
import HeroldStore
import Logging

/// The `pickup` of herold: takes files from `spool/new`, validates them, plans their
/// deliveries, makes both durable in the journal, and only then removes the file.
struct Ingestor: Sendable {
    let spool: Spool
    let journal: any DeliveryJournal
    let logger: Logger
    let now: @Sendable () -> Date

    enum Outcome: Equatable {
        /// Recorded (some events may have been duplicates); the file is gone.
        case accepted(new: Int, duplicates: Int, deliveries: Int)
        /// Moved to `rejected/` with a reason.
        case rejected
        /// Somebody else removed it first.
        case gone
        /// Left in place: what went wrong decides when it is tried again (see `IngestRetries`).
        case failed(IngestFailure)
    }

    /// Handles one file in `new/`.
    func ingest(_ name: String, runtime: Runtime) async -> Outcome {
        var logger = logger
        logger[metadataKey: "spool.file"] = "\(name)"
        let bytes: Data
        do {
            bytes = try spool.read(name, maxBytes: runtime.config.maxEventBytes)
        } catch {
            switch error {
            case .gone:
                return .gone
            case .unacceptable(_, let reason):
                return reject(name, reason: reason, logger: logger)
            case .io:
                return .failed(.unreadable("cannot read it: \(error)"))
            }
        }

        let events: [CloudEvent]
        do {
            events = try CloudEventParser.parse(bytes)
        } catch {
            return reject(name, reason: error.description, logger: logger)
        }

        let receivedAt = now()
        let batch: [(event: CloudEvent, deliveries: [Delivery])]
        let skipped: Int
        let recorded: [EventKey]
        do {
            (batch, skipped) = try await plan(events, runtime: runtime, receivedAt: receivedAt, logger: logger)
            let replaced: [DeliveryID]
            (recorded, replaced) = try await journal.recordReplacing(batch, receivedAt: receivedAt)
            Self.logReplaced(replaced, batch: batch, logger: logger)
        } catch {
            return .failed(Self.failure(journal: error))
        }
        let deliveryCount = Self.logAccepted(batch, recorded: Set(recorded), logger: logger)
        // Only now, with the journal committed, may the file go.
        do {
            try spool.remove(name)
        } catch {
            return .failed(.unreadable("its events are journaled but the file cannot be removed: \(error)"))
        }
        return .accepted(new: recorded.count, duplicates: skipped + batch.count - recorded.count, deliveries: deliveryCount)
    }

    /// The events not yet in the journal with their deliveries, and how many were skipped.
    private func plan(_ events: [CloudEvent], runtime: Runtime, receivedAt: Date,
                      logger: Logger) async throws -> ([(event: CloudEvent, deliveries: [Delivery])], Int) {
        var batch: [(event: CloudEvent, deliveries: [Delivery])] = []
        var duplicates = 0
        for event in events {
            if try await journal.contains(event.key) {
                duplicates += 1
                logger.notice("duplicate event dropped", metadata: [
                    "event.source": "\(event.source)", "event.id": "\(event.id)",
                ])
                continue
            }
            batch.append((event, event.isWithdrawal ? [] : runtime.plan(event, now: receivedAt)))
        }
        return (batch, duplicates)
    }

    /// One line per event recorded (and per held delivery); returns the deliveries recorded.
    private static func logAccepted(_ batch: [(event: CloudEvent, deliveries: [Delivery])], recorded: Set<EventKey>,
                                    logger: Logger) -> Int {
        var deliveryCount = 0
        for (event, deliveries) in batch where recorded.contains(event.key) {
            deliveryCount += deliveries.count
            logger.info("event accepted", metadata: [
                "event.source": "\(event.source)", "event.id": "\(event.id)", "event.type": "\(event.type)",
                "deliveries": "\(deliveries.count)",
                "held": "\(deliveries.filter { $0.state == .held }.count)",
            ])
            for held in deliveries where held.state == .held {
                logger.warning("delivery held", metadata: [
                    "delivery.id": "\(held.id)", "rule": "\(held.rule)",
                    "recipient": "\(held.recipient)", "reason": "\(held.reason ?? "")",
                ])
            }
            if deliveries.isEmpty, !event.isWithdrawal {
                logger.notice("no rule matched the event", metadata: [
                    "event.id": "\(event.id)", "event.type": "\(event.type)",
                ])
            }
        }
        return deliveryCount
    }

    /// Moves `name` to `rejected/` with `reason`.
    func reject(_ name: String, reason: String, logger: Logger) -> Outcome {
        do {
            _ = try spool.reject(name, reason: reason)
            logger.warning("spool file rejected", metadata: ["reason": "\(reason)"])
            return .rejected
        } catch {
            return .failed(.unreadable("cannot move it to rejected/ (reason: \(reason)): \(error)"))
        }
    }

    /// A journal error is the file's own fault only when the journal refused its data
    /// (a constraint, a value it cannot hold); busy, full, I/O and damage stop all ingest.
    static func failure(journal error: any Error) -> IngestFailure {
        guard let error = error as? JournalError else { return .journalDown("\(error)") }
        if error.isDiskFull { return .noSpace(error.description) }
        switch error.kind {
        case .transient, .corrupt: return .journalDown(error.description)
        case .invalid, .notFound: return .refused(error.description)
        }
    }
}
