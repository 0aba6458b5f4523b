import Foundation
import HeroldCore
import HeroldStore
import PostgresNIO
import XCTest
@testable import HeroldPostgres

/// The contract on the shared journal: PostgreSQL, a fresh database per test.
final class PostgresJournalContractTests: XCTestCase, JournalContract {
    private var database: TestDatabase?
    private var opened: [PostgresJournal] = []

    override func setUp() async throws {
        // Without a server the test fails (create says why), it is never skipped: the
        // test itself then throws `MissingServer` from `open`.
        database = try? await TestDatabase.create()
    }

    override func tearDown() async throws {
        for journal in opened { await journal.close() }
        try await database?.drop()
    }

    func openJournal() async throws -> any DeliveryJournal {
        try await open(node: "node-a")
    }

    func open(node: String, lease: TimeInterval = 60) async throws -> PostgresJournal {
        guard let database else { throw MissingServer() }
        let journal = try await database.journal(node: node, lease: lease)
        opened.append(journal)
        return journal
    }

    func testIngestAndDuplicate() async throws { try await checkIngestAndDuplicate() }
    func testBatchIsAllOrNothing() async throws { try await checkBatchIsAllOrNothing() }
    func testReplacement() async throws { try await checkReplacement() }
    func testClaimRecordLifecycle() async throws { try await checkClaimRecordLifecycle() }
    func testClaimLimitsPerDestination() async throws { try await checkClaimLimitsPerDestination() }
    func testTooLateAtClaim() async throws { try await checkTooLateAtClaim() }
    func testRecoverInflight() async throws { try await checkRecoverInflight() }
    func testLanesPersisted() async throws { try await checkLanesPersisted() }
    func testOperatorCommands() async throws { try await checkOperatorCommands() }
    func testReports() async throws { try await checkReports() }
    func testAdminNotices() async throws { try await checkAdminNotices() }
    func testRetention() async throws { try await checkRetention() }
    func testForgetAndHistory() async throws { try await checkForgetAndHistory() }
    func testRecordedAmong() async throws { try await checkRecordedAmong() }
    func testReplacementWithinOneBatch() async throws { try await checkReplacementWithinOneBatch() }
    func testLargeBatchReadsBack() async throws { try await checkLargeBatchReadsBack() }
}

/// What only a shared journal does: two nodes at once.
final class PostgresTwoNodeTests: XCTestCase {
    private var database: TestDatabase?
    private var opened: [PostgresJournal] = []
    private let t0 = Fixtures.t0

    override func setUp() async throws {
        // Without a server the test fails (create says why), it is never skipped: the
        // test itself then throws `MissingServer` from `open`.
        database = try? await TestDatabase.create()
    }

    override func tearDown() async throws {
        for journal in opened { await journal.close() }
        try await database?.drop()
    }

    private func open(node: String, lease: TimeInterval = 60) async throws -> PostgresJournal {
        guard let database else { throw MissingServer() }
        let journal = try await database.journal(node: node, lease: lease)
        opened.append(journal)
        return journal
    }

    /// Nodes A and B claim the same queue in many concurrent rounds: every delivery is
    /// claimed exactly once.
    func testConcurrentClaimsNeverTakeTheSameDelivery() async throws {
        let a = try await open(node: "a"), b = try await open(node: "b")
        let (e, deliveries) = try Fixtures.batch("1", count: 600)
        _ = try await a.recordReplacing([(e, deliveries)], receivedAt: t0)
        let now = t0.addingTimeInterval(3600)
        let claims = try await withThrowingTaskGroup(of: [DeliveryID].self) { group in
            for journal in [a, b, a, b] {
                group.addTask {
                    var taken: [DeliveryID] = []
                    while true {
                        let claim = try await journal.claimEmail(now: now, limit: 7)
                        if claim.claimed.isEmpty { return taken }
                        taken += claim.claimed.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let all = claims.flatMap { $0 }
        XCTAssertEqual(all.count, deliveries.count, "no delivery claimed twice")
        XCTAssertEqual(Set(all), Set(deliveries.map(\.id)), "every delivery claimed")
        // The claimers ran side by side (one that started after the queue was empty may get
        // nothing on a busy machine); both nodes took work, as the leases below show.
        XCTAssertGreaterThanOrEqual(claims.filter { !$0.isEmpty }.count, 2, "claims did not overlap: \(claims.map(\.count))")
        let leases = try await b.leases()
        XCTAssertEqual(Set(leases.values.map(\.node)), ["a", "b"])
        XCTAssertEqual(leases.count, deliveries.count)
    }

    /// A node dies with deliveries in flight: another takes them up only once their lease
    /// has run out, with the same ids; the dead node's late failure is stale and ignored.
    func testTakeOverAfterTheLeaseRunsOut() async throws {
        let a = try await open(node: "a", lease: 60), b = try await open(node: "b", lease: 60)
        let (e, deliveries) = try Fixtures.batch("1", count: 4)
        _ = try await a.recordReplacing([(e, deliveries)], receivedAt: t0)
        let claimedByA = try await a.claimEmail(now: t0.addingTimeInterval(10), limit: 3)
        XCTAssertEqual(claimedByA.claimed.count, 3)

        let early = try await b.claimEmail(now: t0.addingTimeInterval(69), limit: 10)
        XCTAssertEqual(early.claimed.map(\.id), [deliveries[3].id], "A's deliveries are not taken while its lease holds")
        let next = try await b.nextDue(in: [.smtp])
        XCTAssertEqual(next, t0.addingTimeInterval(70), "B wakes when A's lease runs out (not for its own)")
        let recovered = try await b.recoverInflight()
        XCTAssertEqual(recovered, 1, "B's restart recovers only its own delivery, never A's")

        let taken = try await b.claimEmail(now: t0.addingTimeInterval(71), limit: 10)
        XCTAssertEqual(Set(taken.claimed.map(\.id)), Set(claimedByA.claimed.map(\.id) + [deliveries[3].id]),
                       "A's in-flight deliveries are taken up with the same ids")
        XCTAssertEqual(taken.claimed.first { $0.id == claimedByA.claimed[0].id }?.attempts, 2)
        let leases = try await a.leases()
        XCTAssertEqual(Set(leases.values.map(\.node)), ["b"])

        let stale = try await a.record([DeliveryOutcome(id: claimedByA.claimed[0].id,
                                                        action: .recordFailed(Fixtures.permfail), at: t0.addingTimeInterval(72))])
        XCTAssertEqual(stale, 0, "a failure from a node that lost the lease is ignored")
        let sent = try await a.record([DeliveryOutcome(id: claimedByA.claimed[1].id, action: .recordSent(reply: "250"),
                                                       at: t0.addingTimeInterval(72))])
        XCTAssertEqual(sent, 1, "a success is recorded whoever holds it: not sent again")
        let done = try await b.record([DeliveryOutcome(id: claimedByA.claimed[0].id, action: .recordSent(reply: "250"),
                                                       at: t0.addingTimeInterval(73))])
        XCTAssertEqual(done, 1)
        let restartOfA = try await a.recoverInflight()
        XCTAssertEqual(restartOfA, 0, "A holds nothing any more")
    }

    /// A live node renews its leases: the other never takes its work.
    func testRenewedLeasesKeepTheirDeliveries() async throws {
        let a = try await open(node: "a", lease: 60), b = try await open(node: "b", lease: 60)
        let (e, deliveries) = try Fixtures.batch("1", count: 3)
        _ = try await a.recordReplacing([(e, deliveries)], receivedAt: t0)
        _ = try await a.claimEmail(now: t0.addingTimeInterval(10), limit: 3)
        let renewed = try await a.renewLeases(now: t0.addingTimeInterval(50))
        XCTAssertEqual(renewed, 3)
        let notYet = try await b.claimEmail(now: t0.addingTimeInterval(100), limit: 10)
        XCTAssertEqual(notYet.claimed, [], "renewed until t0+110")
        let othersRenewal = try await b.renewLeases(now: t0.addingTimeInterval(100))
        XCTAssertEqual(othersRenewal, 0, "B cannot renew A's leases")
        let taken = try await b.claimEmail(now: t0.addingTimeInterval(111), limit: 10)
        XCTAssertEqual(taken.claimed.count, 3)
    }

    /// The same events dropped on both nodes at once (in opposite orders): one event each,
    /// one set of deliveries, the other node sees duplicates, never an error.
    func testConcurrentDuplicateIngestIsOneEvent() async throws {
        let a = try await open(node: "a"), b = try await open(node: "b")
        let t0 = self.t0
        for round in 0..<10 {
            let batch = try (0..<5).map { try Fixtures.batch("r\(round)-\($0)", count: 3) }
            async let fromA = a.recordReplacing(batch.map { ($0.event, $0.deliveries) }, receivedAt: t0)
            async let fromB = b.recordReplacing(batch.reversed().map { ($0.event, $0.deliveries) }, receivedAt: t0)
            let (recordedByA, recordedByB) = try await (fromA.recorded, fromB.recorded)
            XCTAssertEqual(recordedByA.count + recordedByB.count, 5, "each event recorded by exactly one node")
            XCTAssertEqual(Set(recordedByA + recordedByB), Set(batch.map(\.event.key)))
        }
        let counts = try await a.counts()
        XCTAssertEqual(counts[.pending], 10 * 5 * 3, "one set of deliveries per event")
    }

    /// Two nodes starting at once on an empty database: both migrate safely, each version once.
    func testConcurrentMigration() async throws {
        guard let database else { throw MissingServer() }
        async let first = database.journal(node: "a")
        async let second = database.journal(node: "b")
        opened += try await [first, second]
        let versions = try await database.values("SELECT version FROM herold_schema ORDER BY version", as: Int.self)
        XCTAssertEqual(versions, PostgresSchema.migrations.map(\.version))
        let third = try await open(node: "c")
        let counts = try await third.counts()
        XCTAssertEqual(counts.values.reduce(0, +), 0)
    }

    /// A database migrated by a newer herold is refused, not used.
    func testNewerSchemaIsRefused() async throws {
        let a = try await open(node: "a")
        await a.close()
        guard let database else { throw MissingServer() }
        _ = try await database.values("INSERT INTO herold_schema (version, name) VALUES (999, 'future') RETURNING version",
                                      as: Int.self)
        do {
            _ = try await open(node: "a")
            XCTFail("a schema from the future should be refused")
        } catch let error as JournalError {
            XCTAssertEqual(error.kind, .invalid)
            XCTAssertTrue(error.message.contains("newer herold"), error.message)
        }
    }

    /// No server listening: the error is transient, so the daemon keeps its spool files and retries.
    func testUnreachableServerIsTransient() async throws {
        guard let database else { throw MissingServer() }
        var settings = database.settings
        settings.port = try Self.closedPort()
        do {
            _ = try await PostgresJournal.connect(settings: settings, node: "a", logger: TestDatabase.logger)
            XCTFail("connecting to a closed port should fail")
        } catch let error as JournalError {
            XCTAssertEqual(error.kind, .transient, "\(error)")
            XCTAssertTrue(error.isTransient)
            XCTAssertEqual(error.file, settings.description)
        }
    }

    /// The server ends the journal's connection in the middle of a write (here: while it
    /// waits for a row lock): that write fails as transient, nothing of it is kept, and the
    /// next one works on a fresh connection.
    func testLostConnectionIsTransientAndRecovers() async throws {
        guard let database else { throw MissingServer() }
        let a = try await open(node: "a")
        let lane = LaneRecord(destination: .smtp, health: LaneHealth(), updatedAt: t0)
        try await a.save(lane)
        let holder = try await PostgresConnection.connect(configuration: try database.settings.connectionConfiguration(),
                                                          id: 99, logger: TestDatabase.logger)
        try await holder.query("BEGIN", logger: TestDatabase.logger)
        try await holder.query("SELECT 1 FROM lanes WHERE destination = 'smtp' FOR UPDATE", logger: TestDatabase.logger)
        var paused = lane
        paused.health = LaneHealth(state: .paused(reason: "login refused"), lastError: "login refused")
        let saving = Task { [paused] in try await a.save(paused) }
        var ended: [Bool] = []
        for _ in 0..<100 where ended.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            ended = try await database.values("""
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'
                """, as: Bool.self)
        }
        XCTAssertEqual(ended, [true], "the journal's write waited for the lock")
        do {
            try await saving.value
            XCTFail("the write on the ended connection should fail")
        } catch let error as JournalError {
            XCTAssertEqual(error.kind, .transient, "\(error)")
            XCTAssertEqual(error.operation, "record lane smtp")
        }
        try await holder.query("ROLLBACK", logger: TestDatabase.logger)
        try await holder.close()
        let before = try await a.lanes()
        XCTAssertEqual(before, [lane], "nothing of the failed write is kept")
        try await a.save(paused)
        let after = try await a.lanes()
        XCTAssertEqual(after, [paused], "the next write works on a fresh connection")
    }

    private static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let port = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Int in
                guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else { return 0 }
                return Int(UInt16(bigEndian: pointer.pointee.sin_port))
            }
        }
        guard port > 0 else { throw MissingServer() }
        return port  // bound, never listening: connections are refused
    }
}
