import Foundation
import HeroldCore
import XCTest
@testable import HeroldStore

/// What the admin's summaries have told, kept in a real journal file: told once, news again
/// when a delivery fails anew, and routine endings (replaced, withdrawn) never told.
final class JournalNotifyTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herold-notify-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func delivery(_ recipient: String, event: CloudEvent, at: Date) -> Delivery {
        Delivery(id: DeliveryID.derive(event: event.key, rule: "r", action: 0, recipient: recipient, scheduledAt: nil),
                 event: event.key, rule: "r", action: 0, channel: .email, recipient: recipient, notBefore: at,
                 state: .pending,
                 payload: .email(EmailContent(from: "ROPS <p@example.org>", to: recipient, subject: "S", text: "T")))
    }

    func testToldOnceNewsAgainAfterARequeueAndTheLastSummarySurvivesAReopen() async throws {
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        var journal: Journal? = try Journal(directory: directory)
        let event = try CloudEvent(attributes: [
            "specversion": .string("1.0"), "id": .string("e1"), "source": .string("/cms"), "type": .string("contest.deadline"),
        ])
        let failing = delivery("kwp@example.org", event: event, at: start)
        let replaced = delivery("old@example.org", event: event, at: start)
        _ = try await journal?.record([(event, [failing, replaced])], receivedAt: start)
        let failure = DeliveryFailure(kind: .permanent, code: "smtp.550", message: "550 no such user")
        try await journal?.markFailed(failing.id, failure: failure, at: start.addingTimeInterval(1))
        try await journal?.markFailed(replaced.id, failure: DeliveryFailure(kind: .permanent, code: "x", message: "y"),
                                      at: start.addingTimeInterval(1))
        try await journal?.write("end as replaced") { db in
            try db.execute(sql: "UPDATE deliveries SET reason = 'replaced by event e2' WHERE id = ?", arguments: [replaced.id.rawValue])
        }
        try await journal?.save(LaneRecord(destination: .webhook("hub"),
                                           health: LaneHealth(state: .paused(reason: "tls"), failures: 0, lastError: "tls.certificate"),
                                           updatedAt: start.addingTimeInterval(2)))

        let untold = try await XCTUnwrapAsync(try await journal?.untoldProblems(limit: 100))
        XCTAssertEqual(untold.map(\.kind), [.paused, .failed], "\(untold)")
        XCTAssertEqual(untold.last?.delivery, failing.id)
        XCTAssertEqual(untold.last?.reason, failure.description)
        XCTAssertEqual(untold.first?.reason, "tls.certificate")
        let none = try await journal?.lastAdminSummary()
        XCTAssertNil(none)

        try await journal?.recordAdminSummary(sentAt: start.addingTimeInterval(3), covered: untold)
        let afterSummary = try await journal?.untoldProblems(limit: 100)
        XCTAssertEqual(afterSummary, [], "told once")

        // Reopened (a restart): the last summary's time is still known, nothing is news.
        try journal?.close()
        journal = try Journal(directory: directory)
        let last = try await journal?.lastAdminSummary()
        XCTAssertEqual(last, start.addingTimeInterval(3))
        let afterRestart = try await journal?.untoldProblems(limit: 100)
        XCTAssertEqual(afterRestart, [])

        // Requeued and failed again: news.
        _ = try await journal?.requeue([failing.id], now: start.addingTimeInterval(4))
        try await journal?.markFailed(failing.id, failure: failure, at: start.addingTimeInterval(5))
        let again = try await journal?.untoldProblems(limit: 100)
        XCTAssertEqual(again?.map(\.delivery), [failing.id])
    }
}

private func XCTUnwrapAsync<T>(_ value: @autoclosure () async throws -> T?) async throws -> T {
    let resolved = try await value()
    return try XCTUnwrap(resolved)
}
