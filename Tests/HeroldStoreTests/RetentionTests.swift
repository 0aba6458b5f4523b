import Foundation
import HeroldCore
import XCTest
@testable import HeroldStore

/// Each retention period on its own, on an injected clock.
final class RetentionTests: XCTestCase {
    var directory: URL!
    let t0 = Date(timeIntervalSince1970: 1_767_254_400)
    let key = PersonalDataFixtures.key
    let day: TimeInterval = 86400

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herold-retention-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testContentGoesAfterItsPeriodRecordsAfterTheirsAndWhatIsDueStaysWhole() async throws {
        let journal = try Journal(directory: directory)
        let address = "Anna.Nowak@mops.example.org"
        let event = try PersonalDataFixtures.event("e1", person: "Anna Nowak", address: address, subject: "lider-2026")
        let sent = PersonalDataFixtures.email(event, person: "Anna Nowak", address: address, due: t0, rule: "ogloszenia")
        let failed = PersonalDataFixtures.email(event, person: "Anna Nowak", address: address, due: t0, rule: "zaproszenia")
        var held = PersonalDataFixtures.email(event, person: "Anna Nowak", address: address, due: t0, rule: "wstrzymane")
        held.state = .held
        held.reason = "template failed for Anna Nowak"
        let later = PersonalDataFixtures.email(event, person: "Anna Nowak", address: address,
                                               due: t0.addingTimeInterval(500 * day), rule: "przypomnienia")
        _ = try await journal.record([(event, [sent, failed, held, later])], receivedAt: t0)
        let claimed = try await journal.claim(now: t0.addingTimeInterval(60), limit: 10).claimed
        XCTAssertEqual(Set(claimed.map(\.id)), [sent.id, failed.id])
        let refusal = DeliveryFailure(kind: .permanent, code: "smtp.550", message: "550 <\(address)>: no such user")
        try await journal.record([
            DeliveryOutcome(id: sent.id, action: .recordSent(reply: "250 ok for \(address)"), at: t0.addingTimeInterval(61)),
            DeliveryOutcome(id: failed.id, action: .recordFailed(refusal), at: t0.addingTimeInterval(61)),
        ])

        // Day 29: nothing erased yet.
        var report = try await journal.applyRetention(RetentionPolicy(), now: t0.addingTimeInterval(29 * day), pseudonym: key)
        XCTAssertEqual(report.contentErased, 0)
        // Day 31: the finished two lose their content; the address becomes its keyed hash.
        report = try await journal.applyRetention(RetentionPolicy(), now: t0.addingTimeInterval(31 * day), pseudonym: key)
        XCTAssertEqual(report.contentErased, 2)
        XCTAssertEqual(report.eventBodiesErased, 0, "the event still has deliveries to do")
        for id in [sent.id, failed.id] {
            let erased = try await journal.delivery(id)
            XCTAssertNil(erased?.payload)
            XCTAssertNil(erased?.reason)
            XCTAssertEqual(erased?.recipient, key.hash(address))
            let attempts = try await journal.attempts(for: id)
            XCTAssertEqual(attempts.count, 1, "attempts stay, with their codes")
            XCTAssertNil(attempts.first?.message)
        }
        let failedAttempts = try await journal.attempts(for: failed.id)
        XCTAssertEqual(failedAttempts.first?.code, "smtp.550")
        let stillHeld = try await journal.delivery(held.id)
        XCTAssertEqual(stillHeld, held, "held waits for an operator: untouched")
        let stillDue = try await journal.delivery(later.id)
        XCTAssertEqual(stillDue?.payload, later.payload)
        XCTAssertEqual(stillDue?.recipient, address)

        // history finds both the hashed records and the ones still addressed, in any case.
        let history = try await journal.history(address: "anna.nowak@MOPS.example.org", pseudonym: key)
        XCTAssertEqual(Set(history.map(\.delivery.id)), [sent.id, failed.id, held.id, later.id])
        XCTAssertEqual(history.first { $0.delivery.id == sent.id }?.contentErasedAt, t0.addingTimeInterval(31 * day))

        // Day 366: the finished records go entirely; the rest stays.
        report = try await journal.applyRetention(RetentionPolicy(), now: t0.addingTimeInterval(366 * day), pseudonym: key)
        XCTAssertEqual(report.deliveriesDeleted, 2)
        let gone = try await journal.delivery(sent.id)
        XCTAssertNil(gone)
        let goneAttempts = try await journal.attempts(for: failed.id)
        XCTAssertEqual(goneAttempts, [])
        let counts = try await journal.counts()
        XCTAssertEqual(counts[.pending], 1)
        XCTAssertEqual(counts[.held], 1)
    }

    func testEventKeysOutliveTheirBodiesForTheDuplicateWindow() async throws {
        let journal = try Journal(directory: directory)
        let address = "jan.kowalski@gops.example.org"
        let event = try PersonalDataFixtures.event("e2", person: "Jan Kowalski", address: address)
        let delivery = PersonalDataFixtures.email(event, person: "Jan Kowalski", address: address, due: t0)
        _ = try await journal.record([(event, [delivery])], receivedAt: t0)
        _ = try await journal.claim(now: t0, limit: 5)
        try await journal.record([DeliveryOutcome(id: delivery.id, action: .recordSent(reply: "250 ok"), at: t0)])

        var report = try await journal.applyRetention(RetentionPolicy(), now: t0.addingTimeInterval(31 * day), pseudonym: key)
        XCTAssertEqual(report.eventBodiesErased, 1)
        XCTAssertFalse(PersonalDataFixtures.rawBytes(of: journal).isEmpty)
        report = try await journal.applyRetention(RetentionPolicy(), now: t0.addingTimeInterval(700 * day), pseudonym: key)
        XCTAssertEqual(report.eventKeysDeleted, 0)
        let again = try await journal.record([(event, [delivery])], receivedAt: t0.addingTimeInterval(700 * day))
        XCTAssertEqual(again, [], "within the window the same event is a duplicate")
        report = try await journal.applyRetention(RetentionPolicy(), now: t0.addingTimeInterval(731 * day), pseudonym: key)
        XCTAssertEqual(report.eventKeysDeleted, 1)
        let known = try await journal.contains(event.key)
        XCTAssertFalse(known)
    }
}
