import HeroldCore
import Logging

extension Ingestor {
    /// One line for the deliveries a moved or withdrawn deadline ended.
    static func logReplaced(_ replaced: [DeliveryID], batch: [(event: CloudEvent, deliveries: [Delivery])], logger: Logger) {
        guard !replaced.isEmpty else { return }
        let replacing = batch.filter { $0.event.replacesEarlier }.map(\.event)
        logger.notice("earlier pending deliveries ended by a newer event", metadata: [
            "count": "\(replaced.count)",
            "events": "\(replacing.map { "\($0.id)\($0.isWithdrawal ? " (withdrawal)" : "")" }.joined(separator: ", "))",
        ])
    }
}
