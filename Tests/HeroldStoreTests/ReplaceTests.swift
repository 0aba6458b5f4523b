import Foundation
import HeroldCore
import XCTest
@testable import HeroldStore

/// A deadline moved and one withdrawn: the later event with the same source, type and
/// subject ends the earlier one's pending reminders; sent ones stay sent.
final class ReplaceTests: XCTestCase {
    var directory: URL!
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herold-replace-\(UUID().uuidString)", isDirectory: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func event(_ id: String, subject: String? = "konkurs-lider-2026", cancelled: Bool = false,
                       type: String = "contest.deadline") throws -> CloudEvent {
        var data: [String: JSONValue] = ["deadline": .string("2026-12-15")]
        if cancelled { data["cancelled"] = .bool(true) }
        var attributes: [String: JSONValue] = [
            "specversion": .string("1.0"), "id": .string(id), "source": .string("/cms"),
            "type": .string(type), "data": .object(data),
        ]
        if let subject { attributes["subject"] = .string(subject) }
        return try CloudEvent(attributes: attributes)
    }

    private func reminder(_ event: CloudEvent, days: Double) -> Delivery {
        let at = t0.addingTimeInterval(days * 86400)
        return Delivery(id: DeliveryID.derive(event: event.key, rule: "r", action: 0, recipient: "gops@example.org", scheduledAt: at),
                        event: event.key, rule: "r", action: 0, channel: .email, recipient: "gops@example.org",
                        notBefore: at, state: .pending,
                        payload: .email(EmailContent(from: "p@example.org", to: "gops@example.org", subject: "s", text: "t")))
    }

    func testMovedDeadlineReplacesPendingRemindersAndKeepsSentOnes() async throws {
        let journal = try Journal(directory: directory)
        let first = try event("v1")
        let early = reminder(first, days: 0), late = reminder(first, days: 7)
        _ = try await journal.recordReplacing([(first, [early, late])], receivedAt: t0)
        try await journal.markSent(early.id, at: t0, reply: "250 OK")

        let moved = try event("v2")
        let fresh = reminder(moved, days: 14)
        let result = try await journal.recordReplacing([(moved, [fresh])], receivedAt: t0.addingTimeInterval(60))
        XCTAssertEqual(result.recorded, [moved.key])
        XCTAssertEqual(result.replaced, [late.id])
        let ended = try await journal.delivery(late.id)
        XCTAssertEqual(ended?.state, .failed)
        XCTAssertEqual(ended?.reason, "replaced by event v2")
        let sent = try await journal.delivery(early.id)
        XCTAssertEqual(sent?.state, .sent, "a reminder already sent is not touched (and never resent)")
        let kept = try await journal.delivery(fresh.id)
        XCTAssertEqual(kept?.state, .pending)

        // Withdrawn: the cancellation plans nothing and ends the moved deadline's reminder.
        let withdrawal = try event("v3", cancelled: true)
        XCTAssertTrue(withdrawal.isWithdrawal)
        let gone = try await journal.recordReplacing([(withdrawal, [])], receivedAt: t0.addingTimeInterval(120))
        XCTAssertEqual(gone.replaced, [fresh.id])
        let withdrawn = try await journal.delivery(fresh.id)
        XCTAssertEqual(withdrawn?.reason, "withdrawn by event v3")
        let counts = try await journal.counts()
        XCTAssertEqual(counts[.pending], 0)
    }

    func testOtherSubjectsTypesAndSubjectlessEventsAreLeftAlone() async throws {
        let journal = try Journal(directory: directory)
        let a = try event("a"), other = try event("b", subject: "inny-konkurs")
        let noSubject = try event("c", subject: nil), otherType = try event("d", type: "ceremony.scheduled")
        let ra = reminder(a, days: 1), rb = reminder(other, days: 1), rc = reminder(noSubject, days: 1), rd = reminder(otherType, days: 1)
        _ = try await journal.recordReplacing([(a, [ra]), (other, [rb]), (noSubject, [rc]), (otherType, [rd])], receivedAt: t0)
        let counts = try await journal.counts()
        XCTAssertEqual(counts[.pending], 4)
        // A duplicate (same source and id) replaces nothing.
        let again = try await journal.recordReplacing([(a, [])], receivedAt: t0)
        XCTAssertEqual(again.recorded, [])
        XCTAssertEqual(again.replaced, [])
        let first = try await journal.firstReceivedAt()
        XCTAssertEqual(first, t0)
    }
}
