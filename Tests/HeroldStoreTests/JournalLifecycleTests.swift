import Foundation
import GRDB
import HeroldCore
import XCTest
@testable import HeroldStore

/// The journal's side of the delivery lifecycle: expiry at claim, operator commands, and
/// rows written before the `v2-expiry` migration.
final class JournalLifecycleTests: XCTestCase {
    var directory: URL!
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herold-journal-lc-\(UUID().uuidString)", isDirectory: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func event(_ id: String) throws -> CloudEvent {
        try CloudEvent(attributes: [
            "specversion": .string("1.0"), "id": .string(id), "source": .string("/cms"),
            "type": .string("day.social-worker"), "data": .object(["year": .int(2026)]),
        ])
    }

    private func delivery(_ event: CloudEvent, to recipient: String, expiresAt: Date? = nil) -> Delivery {
        Delivery(id: DeliveryID.derive(event: event.key, rule: "r", action: 0, recipient: recipient, scheduledAt: t0),
                 event: event.key, rule: "r", action: 0, channel: .email, recipient: recipient, notBefore: t0,
                 state: .pending,
                 payload: .email(EmailContent(from: "p@example.org", to: recipient, subject: "Życzenia", text: "T")),
                 expiresAt: expiresAt)
    }

    func testAGreetingPastItsDayExpiresAtClaimAndIsNeverHandedOut() async throws {
        let journal = try Journal(directory: directory)
        let e = try event("dps-2026")
        let late = delivery(e, to: "late@example.org", expiresAt: t0.addingTimeInterval(3600))
        let onTime = delivery(e, to: "ok@example.org", expiresAt: t0.addingTimeInterval(86400))
        _ = try await journal.record([(e, [late, onTime])], receivedAt: t0)
        let claim = try await journal.claim(now: t0.addingTimeInterval(7200), limit: 10)
        XCTAssertEqual(claim.claimed.map(\.recipient), ["ok@example.org"])
        XCTAssertEqual(claim.claimed.first?.expiresAt, t0.addingTimeInterval(86400))
        XCTAssertEqual(claim.expired.map(\.recipient), ["late@example.org"])
        let stored = try await journal.delivery(late.id)
        XCTAssertEqual(stored?.state, .failed)
        XCTAssertTrue(stored?.reason?.contains("expired") ?? false, "\(String(describing: stored?.reason))")
        let attempts = try await journal.attempts(for: late.id)
        XCTAssertEqual(attempts.map(\.code), [DeliveryLifecycle.expiredCode])
        XCTAssertEqual(claim.firstAttempts[onTime.id], t0.addingTimeInterval(7200))
    }

    func testDeliveriesOfEndpointsNoLongerConfiguredAreClaimedAFewAtATimeAndNoOthers() async throws {
        let journal = try Journal(directory: directory)
        let e = try event("partners")
        let mails = ["a", "b", "c"].map { delivery(e, to: "\($0)@example.org") }
        func hook(_ endpoint: String, due: Date) -> Delivery {
            Delivery(id: DeliveryID.derive(event: e.key, rule: "r", action: 1, recipient: endpoint, scheduledAt: due),
                     event: e.key, rule: "r", action: 1, channel: .webhook, recipient: endpoint, notBefore: due,
                     state: .pending, payload: .webhook(WebhookContent(endpoint: endpoint, contentType: "application/json",
                                                                       body: Data("{}".utf8))))
        }
        // Two endpoints removed from the config (two and one due deliveries, one more not due
        // yet), and one still configured; the relay's lane is full.
        let removed = [hook("a-stary", due: t0), hook("z-stary", due: t0.addingTimeInterval(-60)), hook("a-stary", due: t0.addingTimeInterval(-30))]
        let later = hook("z-stary", due: t0.addingTimeInterval(3600))
        let kept = hook("partnerzy", due: t0)
        _ = try await journal.record([(e, mails + removed + [later, kept])], receivedAt: t0)
        let lanes: [Destination: Int] = [.smtp: 0, .webhook("partnerzy"): 0]

        let none = try await journal.claim(now: t0, limits: lanes)
        XCTAssertEqual(none.claimed, [], "without room for others, nothing is claimed")

        let first = try await journal.claim(now: t0, limits: lanes, others: 2)
        XCTAssertEqual(first.claimed.map(\.destination), [.webhook("a-stary"), .webhook("a-stary")])
        XCTAssertEqual(first.claimed.map(\.id), [removed[2].id, removed[0].id], "earliest first within the endpoint")
        let second = try await journal.claim(now: t0, limits: lanes, others: 4)
        XCTAssertEqual(second.claimed.map(\.id), [removed[1].id], "only what is due, and nothing of the lanes the config has")
        XCTAssertTrue(second.claimed.allSatisfy { $0.state == .inflight && $0.attempts == 1 })
        let queued = try await journal.deliveries(in: [.pending], limit: 10).map(\.id)
        XCTAssertEqual(Set(queued), Set(mails.map(\.id) + [later.id, kept.id]))
    }

    func testFirstAttemptTimeSurvivesDeferralsAndResetsOnRequeue() async throws {
        let journal = try Journal(directory: directory)
        let e = try event("1")
        let d = delivery(e, to: "a@example.org")
        _ = try await journal.record([(e, [d])], receivedAt: t0)
        _ = try await journal.claim(now: t0, limit: 1)
        let fail = DeliveryFailure(kind: .transient, code: "smtp.451", message: "later")
        try await journal.markDeferred(d.id, failure: fail, until: t0.addingTimeInterval(60), at: t0)
        let second = try await journal.claim(now: t0.addingTimeInterval(60), limit: 1)
        XCTAssertEqual(second.firstAttempts[d.id], t0, "the lifetime counts from the first try")
        try await journal.markFailed(d.id, failure: fail, at: t0.addingTimeInterval(61))
        let requeued = try await journal.requeue([d.id], now: t0.addingTimeInterval(100))
        XCTAssertEqual(requeued, 1)
        let third = try await journal.claim(now: t0.addingTimeInterval(100), limit: 1)
        XCTAssertEqual(third.firstAttempts[d.id], t0.addingTimeInterval(100))
    }

    func testHoldReleaseAndPurgeTouchOnlyStatesTheLifecycleAllows() async throws {
        let journal = try Journal(directory: directory)
        let e = try event("2")
        let a = delivery(e, to: "a@example.org"), b = delivery(e, to: "b@example.org"), c = delivery(e, to: "c@example.org")
        _ = try await journal.record([(e, [a, b, c])], receivedAt: t0)

        let held = try await journal.hold([a.id, b.id], reason: "sprawdzić listę", now: t0)
        XCTAssertEqual(held, 2)
        let claim = try await journal.claim(now: t0, limit: 10)
        XCTAssertEqual(claim.claimed.map(\.id), [c.id], "held deliveries are never claimed")
        let heldInflight = try await journal.hold([c.id], reason: "x", now: t0)
        XCTAssertEqual(heldInflight, 0, "a delivery in flight cannot be held")
        let status = try await journal.delivery(a.id)
        XCTAssertEqual(status?.state, .held)
        XCTAssertEqual(status?.reason, "sprawdzić listę")

        let released = try await journal.release([a.id, c.id], now: t0.addingTimeInterval(10))
        XCTAssertEqual(released, 1)
        let again = try await journal.claim(now: t0.addingTimeInterval(10), limit: 10)
        XCTAssertEqual(again.claimed.map(\.id), [a.id])

        let purgedInflight = try await journal.purge([a.id])
        XCTAssertEqual(purgedInflight, 0, "work in flight is never purged")
        let purged = try await journal.purge([b.id])
        XCTAssertEqual(purged, 1)
        let gone = try await journal.delivery(b.id)
        XCTAssertNil(gone)
        try await journal.markFailed(a.id, failure: DeliveryFailure(kind: .permanent, code: "smtp.550", message: "no"),
                                     at: t0.addingTimeInterval(11))
        let all = try await journal.purgeAllFailed()
        XCTAssertEqual(all, 1)
        let attempts = try await journal.attempts(for: a.id)
        XCTAssertEqual(attempts, [], "a purged delivery's attempts go with it")
        let counts = try await journal.counts()
        XCTAssertEqual(counts[.inflight], 1)
        XCTAssertEqual(counts.values.reduce(0, +), 1)
    }

    func testRowsWrittenBeforeTheExpiryMigrationStillRead() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(Journal.fileName).path
        do {
            let queue = try DatabaseQueue(path: file)
            try JournalSchema.migrator.migrate(queue, upTo: "v1-events-deliveries-attempts")
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO events (source, id, type, received_at, body) VALUES ('/cms', 'old', 't', 0, '{}');
                    INSERT INTO deliveries (id, event_source, event_id, rule, action, channel, recipient, not_before,
                        state, payload, attempts, created_at, updated_at)
                    VALUES ('hd_old', '/cms', 'old', 'r', 0, 'email', 'a@example.org', 1795000000, 'deferred', NULL, 2, 0, 0);
                    """)
            }
            try queue.close()
        }
        let journal = try Journal(directory: directory)
        let old = try await journal.delivery(DeliveryID(rawValue: "hd_old"))
        XCTAssertEqual(old?.state, .deferred)
        XCTAssertEqual(old?.attempts, 2)
        XCTAssertNil(old?.expiresAt)
        let claim = try await journal.claim(now: t0, limit: 10)
        XCTAssertEqual(claim.claimed.map(\.id.rawValue), ["hd_old"])
    }
}
