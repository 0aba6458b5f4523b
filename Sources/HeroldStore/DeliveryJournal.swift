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
    /// Where it is, for messages (a file, or a database URL without its password).
    var path: String { get }
    /// Lets go of its connections; later calls fail.
    func shutdown() async

    // Ingest
    func contains(_ key: EventKey) async throws -> Bool
    /// Which of `keys` have been recorded before: one look-up for a whole ingest batch
    /// (a default, asking `contains` for each, serves journals that have no faster way).
    func recorded(among keys: [EventKey]) async throws -> Set<EventKey>
    func recordReplacing(_ batch: [(event: CloudEvent, deliveries: [Delivery])],
                         receivedAt: Date) async throws -> (recorded: [EventKey], replaced: [DeliveryID])
    func firstReceivedAt() async throws -> Date?

    // The dispatcher
    func recoverInflight() async throws -> Int
    func claim(now: Date, limits: [Destination: Int], others: Int, lateness: Lateness) async throws -> JournalClaim
    /// Extends the leases of this node's deliveries in flight (a shared journal: another node
    /// takes a delivery up again once its lease has run out). Returns how many were renewed.
    func renewLeases(now: Date) async throws -> Int
    /// The key of the recipients' pseudonyms that every user of this journal shares, given
    /// this node's own (`RecipientKey` in its state folder): SQLite has one node, so its own;
    /// a shared journal keeps the first one proposed.
    func recipientKey(proposed: [UInt8]) async throws -> [UInt8]
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
    /// On a shared journal, which node holds deliveries in flight: how many, and until when
    /// its leases run (the latest). One node (SQLite): none.
    func holders() async throws -> [NodeHold]

    // The admin's summaries (notify:)
    func untoldProblems(limit: Int) async throws -> [AdminProblem]
    func lastAdminSummary() async throws -> Date?
    func recordAdminSummary(sentAt: Date, covered: [AdminProblem]) async throws

    // Operator commands
    func requeue(_ ids: [DeliveryID], now: Date) async throws -> Int
    func requeueAllFailed(now: Date) async throws -> Int
    func hold(_ ids: [DeliveryID], reason: String, now: Date) async throws -> Int
    func release(_ ids: [DeliveryID], now: Date) async throws -> Int
    func purge(_ ids: [DeliveryID]) async throws -> Int
    func purgeAllFailed() async throws -> Int

    // Personal data (RODO): retention, erasure, access
    func applyRetention(_ policy: RetentionPolicy, now: Date, pseudonym: RecipientPseudonym,
                        batchSize: Int) async throws -> RetentionReport
    func giveSpaceBack(step: Int) async throws -> Int
    func prepareSpaceReclaim(maxBytes: Int) async throws -> SpaceReclaim
    func checkpoint(attempts: Int) async throws -> Bool
    func forget(addresses: [String], names: [String], now: Date, pseudonym: RecipientPseudonym,
                inFlightWait: Duration) async throws -> ErasureReport
    func history(address: String, pseudonym: RecipientPseudonym) async throws -> [HistoryEntry]
}

extension Journal: DeliveryJournal {
    /// One node, no leases: in-flight deliveries are taken up again only by `recoverInflight`.
    public func renewLeases(now: Date) async throws -> Int { 0 }
    public func recipientKey(proposed: [UInt8]) async throws -> [UInt8] { proposed }
    public func shutdown() async { try? close() }
    public func holders() async throws -> [NodeHold] { [] }
}

extension DeliveryJournal {
    public func recorded(among keys: [EventKey]) async throws -> Set<EventKey> {
        var found: Set<EventKey> = []
        for key in keys where try await contains(key) { found.insert(key) }
        return found
    }
}

/// The usual sizes of the personal-data steps.
extension DeliveryJournal {
    public func applyRetention(_ policy: RetentionPolicy, now: Date, pseudonym: RecipientPseudonym) async throws -> RetentionReport {
        try await applyRetention(policy, now: now, pseudonym: pseudonym, batchSize: 500)
    }
    public func giveSpaceBack() async throws -> Int { try await giveSpaceBack(step: 256) }
    public func prepareSpaceReclaim() async throws -> SpaceReclaim { try await prepareSpaceReclaim(maxBytes: 64 << 20) }
    public func checkpoint() async throws -> Bool { try await checkpoint(attempts: 20) }
    public func forget(addresses: [String], names: [String] = [], now: Date,
                       pseudonym: RecipientPseudonym) async throws -> ErasureReport {
        try await forget(addresses: addresses, names: names, now: now, pseudonym: pseudonym, inFlightWait: .seconds(30))
    }
}

/// A node's deliveries in flight on a shared journal (`herold status`).
public struct NodeHold: Sendable, Equatable {
    public var node: String
    public var deliveries: Int
    /// The latest of their leases' ends: past it, another node may take them up.
    public var leaseUntil: Date

    public init(node: String, deliveries: Int, leaseUntil: Date) {
        self.node = node
        self.deliveries = deliveries
        self.leaseUntil = leaseUntil
    }
}
