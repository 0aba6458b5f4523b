import Foundation
import HeroldCore

/// What herold asks of its journal: the durable record of every accepted event, every
/// delivery it causes with each attempt, and each destination's health. The daemon and the
/// operator commands talk to this protocol only; `Journal` (SQLite in the state folder) is
/// the embedded implementation, and a shared one (PostgreSQL, for two nodes) is its sibling.
///
/// Every state change goes through one guarded path: `recordReplacing` (ingest), `claim`
/// (the lifecycle's claim, too-late decided in the same transaction), `record(_ outcomes:)`
/// (the lifecycle's outcomes, applied only to deliveries still in flight), and the operator
/// commands, each allowed only from the states `DeliveryLifecycle` permits.
public protocol DeliveryJournal: Sendable {
    // Ingest
    func contains(_ key: EventKey) async throws -> Bool
    func recordReplacing(_ batch: [(event: CloudEvent, deliveries: [Delivery])],
                         receivedAt: Date) async throws -> (recorded: [EventKey], replaced: [DeliveryID])
    func firstReceivedAt() async throws -> Date?

    // The dispatcher
    func recoverInflight() async throws -> Int
    func claim(now: Date, limits: [Destination: Int], others: Int, lateness: Lateness) async throws -> JournalClaim
    func nextDue(in destinations: Set<Destination>) async throws -> Date?
    @discardableResult func record(_ outcomes: [DeliveryOutcome]) async throws -> Int
    func lanes() async throws -> [LaneRecord]
    func save(_ lane: LaneRecord) async throws

    // Reports
    func counts() async throws -> [DeliveryState: Int]
    func deliveries(in states: Set<DeliveryState>, limit: Int) async throws -> [Delivery]
    func delivery(_ id: DeliveryID) async throws -> Delivery?
    func attempts(for id: DeliveryID) async throws -> [Attempt]
    func queueSummary() async throws -> [DestinationQueue]
    func dueTimes(now: Date) async throws -> (oldestDue: Date?, next: Date?)
    func tally() async throws -> [DeliveryTally]

    // Operator commands
    func requeue(_ ids: [DeliveryID], now: Date) async throws -> Int
    func requeueAllFailed(now: Date) async throws -> Int
    func hold(_ ids: [DeliveryID], reason: String, now: Date) async throws -> Int
    func release(_ ids: [DeliveryID], now: Date) async throws -> Int
    func purge(_ ids: [DeliveryID]) async throws -> Int
    func purgeAllFailed() async throws -> Int
}

extension Journal: DeliveryJournal {}
