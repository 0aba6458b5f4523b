import Foundation
import HeroldStore
import Logging

/// On a shared journal, renews this node's leases on its deliveries in flight every third
/// of the lease, so that another node takes them up only when this one has died. A renewal
/// that fails is tried again at the next turn (the lease still has two thirds to run).
struct LeaseKeeper: Sendable {
    let journal: any DeliveryJournal
    let lease: TimeInterval
    let logger: Logger
    let now: @Sendable () -> Date

    func run() async {
        var failing = false
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int64(lease * 1000 / 3)))
            guard !Task.isCancelled else { return }
            do {
                _ = try await journal.renewLeases(now: now())
                if failing { logger.notice("leases renewed again") }
                failing = false
            } catch {
                logger.warning("cannot renew the leases of deliveries in flight; another node may take them up",
                               metadata: ["error": "\(error)", "lease": "\(Int(lease))s"])
                failing = true
            }
        }
    }
}
