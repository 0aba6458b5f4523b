import Foundation
import HeroldCore

extension DaemonMetrics {
    /// Counts an outcome the journal recorded for a delivery in flight: an attempt by its
    /// outcome, and for a sent one the time since its event arrived (`arrivedAt`; nil leaves
    /// it out, for reminders planned for later). An interrupted transfer (its lane paused)
    /// is not an attempt, as in the journal.
    public func recorded(_ action: DeliveryAction, of delivery: Delivery, arrivedAt: Date?, at instant: Date) {
        switch action {
        case .recordSent:
            attempt(destination: delivery.destination, outcome: .sent)
            if let arrivedAt { delivered(channel: delivery.channel, seconds: instant.timeIntervalSince(arrivedAt)) }
        case .recordDeferred(let failure, _):
            attempt(destination: delivery.destination, outcome: .deferred(code: failure.code))
        case .recordFailed(let failure):
            attempt(destination: delivery.destination, outcome: .failed(code: failure.code))
        case .recordInterrupted, .transmit, .recordHeld, .recordPending:
            break
        }
    }
}
