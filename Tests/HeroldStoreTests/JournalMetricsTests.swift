import Foundation
import HeroldCore
import Synchronization
import XCTest
@testable import HeroldStore

/// What the journal gives the metrics: each commit's time and sync mode, each claimed
/// delivery's arrival, and the deliveries by destination and state.
final class JournalMetricsTests: XCTestCase {
    var directory: URL!
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herold-journal-metrics-\(UUID().uuidString)", isDirectory: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func event(_ id: String) throws -> CloudEvent {
        try CloudEvent(attributes: [
            "specversion": .string("1.0"), "id": .string(id), "source": .string("/cms"),
            "type": .string("laureates.announced"), "data": .object(["edition": .string("X")]),
        ])
    }

    private func delivery(_ event: CloudEvent, _ channel: Channel, to recipient: String, at notBefore: Date) -> Delivery {
        let payload: DeliveryPayload = channel == .email
            ? .email(EmailContent(from: "p@example.org", to: recipient, subject: "Laureaci", text: "T"))
            : .webhook(WebhookContent(endpoint: recipient, contentType: "application/json", body: Data("{}".utf8)))
        return Delivery(id: DeliveryID.derive(event: event.key, rule: "r", action: 0, recipient: recipient, scheduledAt: nil),
                        event: event.key, rule: "r", action: 0, channel: channel, recipient: recipient,
                        notBefore: notBefore, state: .pending, payload: payload)
    }

    func testEachCommitIsReportedWithItsSyncMode() async throws {
        let commits = Mutex<[(seconds: TimeInterval, synced: Bool)]>([])
        let journal = try Journal(directory: directory) { seconds, synced in
            commits.withLock { $0.append((seconds, synced)) }
        }
        let opened = commits.withLock { $0.count }
        let e = try event("1")
        _ = try await journal.recordReplacing([(e, [delivery(e, .email, to: "a@example.org", at: t0)])], receivedAt: t0)
        var seen = commits.withLock { Array($0.dropFirst(opened)) }
        XCTAssertEqual(seen.map(\.synced), [true], "an ingest waits for the disk")
        XCTAssertTrue(seen.allSatisfy { $0.seconds >= 0 && $0.seconds < 30 }, "\(seen)")

        let claim = try await journal.claim(now: t0, limits: [.smtp: 4])
        let claimed = try XCTUnwrap(claim.claimed.first)
        try await journal.record([DeliveryOutcome(id: claimed.id, action: .recordSent(reply: "250 ok"), at: t0)])
        seen = commits.withLock { Array($0.dropFirst(opened + 1)) }
        XCTAssertEqual(seen.map(\.synced), [false, false], "the claim and the outcome do not wait for the disk")

        _ = try await journal.counts()
        XCTAssertEqual(commits.withLock { $0.count }, opened + 3, "reads are not commits")
    }

    func testAFailedWriteIsNotACommit() async throws {
        let commits = Mutex(0)
        let journal = try Journal(directory: directory) { _, _ in commits.withLock { $0 += 1 } }
        let before = commits.withLock { $0 }
        let e = try event("1")
        let one = delivery(e, .email, to: "a@example.org", at: t0)
        var clash = delivery(e, .email, to: "b@example.org", at: t0)
        clash.id = one.id
        do {
            _ = try await journal.recordReplacing([(e, [one, clash])], receivedAt: t0)
            XCTFail("the batch should have failed")
        } catch is JournalError {}
        XCTAssertEqual(commits.withLock { $0 }, before)
    }

    func testAClaimTellsWhenEachDeliveryArrived() async throws {
        let journal = try Journal(directory: directory)
        let early = try event("early"), late = try event("late")
        let first = delivery(early, .email, to: "a@example.org", at: t0)
        let second = delivery(late, .webhook, to: "partnerzy-hub", at: t0)
        _ = try await journal.recordReplacing([(early, [first])], receivedAt: t0)
        _ = try await journal.recordReplacing([(late, [second])], receivedAt: t0.addingTimeInterval(30))
        let claim = try await journal.claim(now: t0.addingTimeInterval(60), limits: [.smtp: 1, .webhook("partnerzy-hub"): 1])
        XCTAssertEqual(claim.claimed.count, 2)
        XCTAssertEqual(claim.arrivals[first.id], t0)
        XCTAssertEqual(claim.arrivals[second.id], t0.addingTimeInterval(30))
    }

    func testTallyCountsByDestinationAndState() async throws {
        let journal = try Journal(directory: directory)
        let e = try event("1")
        let mails = ["a", "b", "c"].map { delivery(e, .email, to: "\($0)@example.org", at: t0) }
        let hook = delivery(e, .webhook, to: "partnerzy-hub", at: t0.addingTimeInterval(3600))
        _ = try await journal.recordReplacing([(e, mails + [hook])], receivedAt: t0)
        let claim = try await journal.claim(now: t0, limits: [.smtp: 2])
        try await journal.record(claim.claimed.map { DeliveryOutcome(id: $0.id, action: .recordSent(reply: "250"), at: t0) })

        let tally = try await journal.tally()
        let byKey = Dictionary(uniqueKeysWithValues: tally.map { ("\($0.destination) \($0.state.rawValue) \($0.channel.rawValue)", $0.count) })
        XCTAssertEqual(byKey, ["smtp sent email": 2, "smtp pending email": 1, "webhook:partnerzy-hub pending webhook": 1])
        let empty = try await Journal(directory: directory.appendingPathComponent("other")).tally()
        XCTAssertEqual(empty, [])
    }
}
