import Foundation
import HeroldCore
import HeroldMetrics
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
    var metrics: DaemonMetrics? = nil

    enum Outcome: Equatable {
        /// Recorded (some events may have been duplicates); the file is gone.
        case accepted(new: Int, duplicates: Int, deliveries: Int)
        /// Moved to `rejected/` with a reason.
        case rejected
        /// Somebody else removed it first.
        case gone
        /// Left in place to try again (I/O or journal trouble).
        case retryLater
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
                logger.error("cannot read spool file; will retry", metadata: ["error": "\(error)"])
                return .retryLater
            }
        }

        let events: [CloudEvent]
        do {
            events = try CloudEventParser.parse(bytes)
        } catch {
            return reject(name, reason: error.description, logger: logger)
        }

        let receivedAt = now()
        var batch: [(event: CloudEvent, deliveries: [Delivery])] = []
        var duplicates = 0
        do {
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
            let (recorded, replaced) = try await journal.recordReplacing(batch, receivedAt: receivedAt)
            Self.logReplaced(replaced, batch: batch, logger: logger)
            duplicates += batch.count - recorded.count
            let fresh = Set(recorded)
            var deliveryCount = 0
            for (event, deliveries) in batch where fresh.contains(event.key) {
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
            // Only now, with the journal committed, may the file go.
            metrics?.eventsAccepted(recorded.count, duplicates: duplicates)
            try spool.remove(name)
            return .accepted(new: recorded.count, duplicates: duplicates, deliveries: deliveryCount)
        } catch {
            logger.error("cannot record event in the journal; the spool file stays and will be retried",
                         metadata: ["error": "\(error)"])
            return .retryLater
        }
    }

    private func reject(_ name: String, reason: String, logger: Logger) -> Outcome {
        do {
            _ = try spool.reject(name, reason: reason)
            logger.warning("spool file rejected", metadata: ["reason": "\(reason)"])
            metrics?.fileRejected()
            return .rejected
        } catch {
            logger.error("cannot move spool file to rejected/", metadata: ["reason": "\(reason)", "error": "\(error)"])
            return .retryLater
        }
    }
}
