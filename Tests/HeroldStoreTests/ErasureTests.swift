import Foundation
import HeroldCore
import XCTest
@testable import HeroldStore

/// `forget` on a real journal file: nothing of the person stays in its bytes.
final class ErasureTests: XCTestCase {
    var directory: URL!
    let t0 = Date(timeIntervalSince1970: 1_767_254_400)
    let key = PersonalDataFixtures.key

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herold-erasure-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testForgetLeavesNoCopyInTheFilesAndOthersStillGo() async throws {
        let journal = try Journal(directory: directory)
        let jan = "Jan.Kowalski@gops-wieliczka.example.org", anna = "anna.nowak@mops.example.org"
        let e1 = try PersonalDataFixtures.event("e1", person: "Jan Kowalski", address: jan)
        let sent = PersonalDataFixtures.email(e1, person: "Jan Kowalski", address: jan, due: t0, rule: "ogloszenia")
        let reminder = PersonalDataFixtures.email(e1, person: "Jan Kowalski", address: jan,
                                                  due: t0.addingTimeInterval(86400 * 10), rule: "przypomnienia")
        let e2 = try PersonalDataFixtures.event("e2", person: "Anna Nowak", address: anna)
        let toAnna = PersonalDataFixtures.email(e2, person: "Anna Nowak", address: anna, due: t0.addingTimeInterval(86400 * 10),
                                                text: "Pani Anno, zastępstwo obejmie Jan Kowalski (\(jan)).")
        let annaSent = PersonalDataFixtures.email(e2, person: "Anna Nowak", address: anna, due: t0, rule: "ogloszenia")
        _ = try await journal.record([(e1, [sent, reminder]), (e2, [toAnna, annaSent])], receivedAt: t0)
        _ = try await journal.claim(now: t0.addingTimeInterval(1), limit: 10)
        try await journal.record([
            DeliveryOutcome(id: sent.id, action: .recordSent(reply: "250 2.1.5 <\(jan)> ok"), at: t0.addingTimeInterval(2)),
            DeliveryOutcome(id: annaSent.id, action: .recordSent(reply: "250 ok"), at: t0.addingTimeInterval(2)),
        ])
        _ = try await journal.checkpoint()
        XCTAssertNotNil(PersonalDataFixtures.rawBytes(of: journal).range(of: Data(jan.lowercased().utf8)), "the check can see it")

        let report = try await journal.forget(addresses: [jan.uppercased()], names: ["Jan Kowalski"], now: t0.addingTimeInterval(60), pseudonym: key)
        XCTAssertEqual(report.cancelled, 1)
        XCTAssertEqual(report.erased, 1)
        XCTAssertEqual(report.events, 1)
        XCTAssertEqual(report.othersRewritten, 1)
        XCTAssertEqual(report.replies, 0, "the reply went with the delivery's content")
        _ = try await journal.giveSpaceBack()
        let checkpointed = try await journal.checkpoint()
        XCTAssertTrue(checkpointed)

        let bytes = PersonalDataFixtures.rawBytes(of: journal)
        XCTAssertNil(bytes.range(of: Data(jan.lowercased().utf8)), "the address is still in the journal's bytes")
        XCTAssertNil(bytes.range(of: Data("jan kowalski".utf8)), "the name is still in the journal's bytes")
        let cancelled = try await journal.delivery(reminder.id)
        XCTAssertEqual(cancelled?.state, .failed)
        XCTAssertEqual(cancelled?.reason, "erased on request")
        let rewritten = try await journal.delivery(toAnna.id)
        XCTAssertEqual(rewritten?.state, .pending, "Anna's message still goes")
        guard case .email(let email)? = rewritten?.payload else { return XCTFail("Anna's message lost") }
        XCTAssertEqual(email.text, "Pani Anno, zastępstwo obejmie [usunięto] ([usunięto]).")
        let history = try await journal.history(address: jan, pseudonym: key)
        XCTAssertEqual(history.count, 0, "nothing links the records to the address any more")
    }
}
