import Foundation
import HeroldStore
import XCTest

/// The contract on the embedded journal: SQLite in a temporary state folder.
final class SQLiteJournalContractTests: XCTestCase, JournalContract {
    private var directory: URL!
    private var opened: [Journal] = []

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herold-contract-\(UUID().uuidString)", isDirectory: true)
    }

    override func tearDownWithError() throws {
        for journal in opened { try? journal.close() }
        try? FileManager.default.removeItem(at: directory)
    }

    func openJournal() async throws -> any DeliveryJournal {
        let journal = try Journal(directory: directory.appendingPathComponent("state"))
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

    /// One node, no leases: nothing to renew.
    func testRenewLeasesIsNothing() async throws {
        let journal = try await openJournal()
        let (e, d) = try Fixtures.batch("1", count: 2)
        _ = try await journal.recordReplacing([(e, d)], receivedAt: Fixtures.t0)
        _ = try await journal.claimEmail(now: Fixtures.t0.addingTimeInterval(5), limit: 2)
        let renewed = try await journal.renewLeases(now: Fixtures.t0.addingTimeInterval(10))
        XCTAssertEqual(renewed, 0)
    }
}
