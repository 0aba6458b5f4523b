import Foundation
import HeroldCore
import HeroldStore
import XCTest
@testable import HeroldDaemon

/// The pure part of the admin's summary: when one is due, and what it says.
final class AdminSummaryTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_795_000_000)
    private func describe(_ date: Date) -> String { "T+\(Int(date.timeIntervalSince(now)))" }

    private func failed(_ n: Int) -> AdminProblem {
        AdminProblem(kind: .failed, delivery: DeliveryID(rawValue: "hd_F\(n)"), destination: .smtp,
                     recipient: "gops\(n)@example.org", rule: "przypomnienia", eventID: "konkurs-\(n)",
                     reason: "permanent smtp.550: 550 5.1.1 no such user", since: now.addingTimeInterval(-60))
    }

    func testDueOncePerPeriodCountingFromTheLastSummary() {
        XCTAssertTrue(AdminSummary.isDue(now: now, last: nil, every: 3600), "never sent: due")
        XCTAssertFalse(AdminSummary.isDue(now: now, last: now.addingTimeInterval(-3599), every: 3600))
        XCTAssertTrue(AdminSummary.isDue(now: now, last: now.addingTimeInterval(-3600), every: 3600))
        XCTAssertEqual(AdminSummary.pause(now: now, last: now.addingTimeInterval(-600), every: 3600), 3000, accuracy: 0.001,
                       "waits for the rest of the period")
        XCTAssertEqual(AdminSummary.pause(now: now, last: nil, every: 3600), 30, "due: looks again within half a minute")
        XCTAssertEqual(AdminSummary.pause(now: now, last: nil, every: 2), 2)
    }

    func testNothingNewNoSummary() {
        XCTAssertNil(AdminSummary.make(problems: [], host: "vm", now: now, describe: describe))
    }

    func testEachProblemSaysWhatForWhomWhyAndTheCommand() throws {
        let paused = AdminProblem(kind: .paused, destination: .webhook("partnerzy-hub"),
                                  reason: "transient tls.certificate: the server's certificate was not accepted",
                                  since: now.addingTimeInterval(-120), waiting: 3)
        let held = AdminProblem(kind: .held, delivery: DeliveryID(rawValue: "hd_H1"), destination: .webhook("partnerzy-hub"),
                                recipient: "partnerzy-hub", rule: "oglos-laureatow", eventID: "laureaci-2026",
                                reason: "template laureaci: missing field", since: now.addingTimeInterval(-30))
        let summary = try XCTUnwrap(AdminSummary.make(problems: [paused, failed(1), held], host: "herold.rops.example.org",
                                                      now: now, describe: describe))
        XCTAssertEqual(summary.subject, "herold (herold.rops.example.org): 3 problemy z wysyłką")
        XCTAssertEqual(summary.covered.count, 3)
        let text = summary.text
        XCTAssertTrue(text.contains("- webhook:partnerzy-hub (od T+-120), w kolejce: 3 wysyłki\n  Powód: transient tls.certificate"), text)
        XCTAssertTrue(text.contains("  Po poprawieniu konfiguracji: systemctl reload herold"), text)
        XCTAssertTrue(text.contains("- e-mail do gops1@example.org (reguła przypomnienia, zdarzenie konkurs-1, T+-60)\n  Powód: permanent smtp.550: 550 5.1.1 no such user\n  Ponów: herold requeue hd_F1"), text)
        XCTAssertTrue(text.contains("- webhook do partnerzy-hub (reguła oglos-laureatow, zdarzenie laureaci-2026, T+-30)"), text)
        XCTAssertTrue(text.contains("herold release hd_H1"), text)
        XCTAssertTrue(text.contains("stan na T+0"), text)
    }

    func testALongListIsCutAndCountedButAllAreCovered() throws {
        let problems = (1...45).map(failed)
        let summary = try XCTUnwrap(AdminSummary.make(problems: problems, host: "vm", now: now, describe: describe))
        XCTAssertEqual(summary.subject, "herold (vm): 45 problemów z wysyłką")
        XCTAssertTrue(summary.text.contains("herold requeue hd_F30\n"), summary.text)
        XCTAssertFalse(summary.text.contains("hd_F31\n"), summary.text)
        XCTAssertTrue(summary.text.contains("…oraz 15 kolejnych problemów (wszystkie pokazuje herold status)."), summary.text)
        XCTAssertEqual(summary.covered.count, 45, "told in number: not told again")
    }
}
