import HeroldCore
import XCTest
@testable import HeroldStore

/// The one rule both journals follow in `forget`, for every state a delivery can be in.
final class ErasureStepTests: XCTestCase {
    func testEveryStateOfThePersonsOwnDeliveries() {
        let steps = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0, ErasureStep(state: $0, own: true)) })
        XCTAssertEqual(steps, [.inflight: .wait, .sent: .erase, .failed: .erase,
                               .pending: .cancel, .deferred: .cancel, .held: .cancel])
    }

    func testEveryStateOfOthersDeliveriesNamingThePerson() {
        let steps = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0, ErasureStep(state: $0, own: false)) })
        XCTAssertEqual(steps, [.inflight: .wait, .sent: .eraseOthers, .failed: .eraseOthers,
                               .pending: .rewrite, .deferred: .rewrite, .held: .rewrite])
    }

    /// A cancelled delivery ends failed, "erased on request", with nothing linking it to
    /// the person; a finished one of theirs keeps no address and no reason.
    func testWhatIsLeftOnThePersonsDeliveries() {
        XCTAssertTrue(ErasureStep.cancel.endsDelivery)
        XCTAssertEqual(ErasureStep.cancel.erasedReason, "erased on request")
        XCTAssertEqual(ErasureStep.cancel.keptRecipient("jan@example.org"), "[erased]")
        XCTAssertFalse(ErasureStep.erase.endsDelivery)
        XCTAssertNil(ErasureStep.erase.erasedReason)
        XCTAssertEqual(ErasureStep.erase.keptRecipient("jan@example.org"), "[erased]")
    }

    /// Another person's finished message keeps their address; one still due is rewritten,
    /// not erased, and still goes out.
    func testWhatIsLeftOnOthersDeliveries() {
        XCTAssertEqual(ErasureStep.eraseOthers.keptRecipient("anna@example.org"), "anna@example.org")
        XCTAssertNil(ErasureStep.eraseOthers.erasedReason)
        XCTAssertFalse(ErasureStep.eraseOthers.endsDelivery)
        XCTAssertFalse(ErasureStep.rewrite.erasesContent)
        XCTAssertFalse(ErasureStep.rewrite.endsDelivery)
        XCTAssertEqual(ErasureStep.allCases.filter(\.erasesContent), [.erase, .cancel, .eraseOthers])
        XCTAssertEqual(ErasureStep.allCases.filter(\.endsDelivery), [.cancel], "only a cancel changes the state")
    }

    func testReportCountsEachStepOnceAndNotWhatWaits() {
        var report = ErasureReport()
        for step in ErasureStep.allCases { report.count(step) }
        report.count(.cancel)
        var expected = ErasureReport()
        expected.cancelled = 2
        expected.erased = 1
        expected.othersErased = 1
        expected.othersRewritten = 1
        XCTAssertEqual(report, expected)
        var total = ErasureReport()
        total.inFlight = 3
        total.addDeliveries(of: report)
        total.addDeliveries(of: report)
        XCTAssertEqual([total.cancelled, total.erased, total.othersErased, total.othersRewritten, total.inFlight], [4, 2, 2, 2, 3])
    }

    func testRequestTrimsAndDropsTermsTooShortToSearch() {
        let request = ErasureRequest(addresses: ["  jan@example.org ", "", "  "], names: [" Jan Kowalski ", "Ja", ""])
        XCTAssertEqual(request.addresses, ["jan@example.org"])
        XCTAssertEqual(request.terms, ["jan@example.org", "Jan Kowalski"])
        XCTAssertEqual(ErasureRequest(addresses: [" "], names: ["Al"]).terms, [], "nothing to search: forget does nothing")
    }
}
