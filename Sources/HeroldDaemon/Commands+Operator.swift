import Foundation
import HeroldCore
import HeroldStore

/// `hold`, `release` and `purge`: an operator's hands on the queue. Each is one short
/// transaction that changes only deliveries in a state the lifecycle allows, so they are
/// safe while `herold serve` runs (it never sends a held delivery, and never claims one
/// that is held, failed or purged).
extension Commands {
    /// Holds pending or deferred deliveries; returns how many changed.
    public static func hold(configPath: String, ids: [String], reason: String = "held by an operator",
                            now: Date = Date()) async throws(CommandFailure) -> Int {
        return try await withJournal(configPath, failing: "cannot update the journal") { journal in
            return try await journal.hold(ids.map(DeliveryID.init(rawValue:)), reason: reason, now: now)
        }
    }

    /// Lets held deliveries go again; returns how many changed.
    public static func release(configPath: String, ids: [String], now: Date = Date()) async throws(CommandFailure) -> Int {
        return try await withJournal(configPath, failing: "cannot update the journal") { journal in
            return try await journal.release(ids.map(DeliveryID.init(rawValue:)), now: now)
        }
    }

    /// Deletes failed or held deliveries (or every failed one); returns how many.
    public static func purge(configPath: String, ids: [String], allFailed: Bool) async throws(CommandFailure) -> Int {
        return try await withJournal(configPath, failing: "cannot update the journal") { journal in
            if allFailed { return try await journal.purgeAllFailed() }
            return try await journal.purge(ids.map(DeliveryID.init(rawValue:)))
        }
    }
}
