import Foundation
import HeroldCore
import HeroldStore
import XCTest

/// Ingest of whole batches: what a batch of many events does must be what recording them
/// one by one would do, whichever way a journal writes them.
extension JournalContract {
    func checkRecordedAmong() async throws {
        let journal = try await openJournal()
        let none = try await journal.recorded(among: [])
        XCTAssertEqual(none, [])
        let e1 = try Fixtures.event("1"), e2 = try Fixtures.event("2")
        _ = try await journal.recordReplacing([(e1, [Fixtures.email(e1, to: "a@example.org", at: t0)]), (e2, [])], receivedAt: t0)
        let elsewhere = EventKey(source: "/other", id: "1"), later = EventKey(source: "/cms", id: "3")
        let found = try await journal.recorded(among: [elsewhere, e2.key, later, e1.key, e2.key])
        XCTAssertEqual(found, [e1.key, e2.key], "only the keys recorded, each once, the same id of another source not")
    }

    /// One batch with events of one replacement group (a subject) around others: each one
    /// newly recorded ends the still-due deliveries of the group's events before it, those
    /// already in the journal and those earlier in the batch, and nothing after it.
    func checkReplacementWithinOneBatch() async throws {
        let journal = try await openJournal()
        let first = try Fixtures.event("1", subject: "konkurs-7")
        let old = Fixtures.email(first, to: "a@example.org", at: t0.addingTimeInterval(3600))
        _ = try await journal.recordReplacing([(first, [old])], receivedAt: t0)

        let second = try Fixtures.event("2", subject: "konkurs-7"), third = try Fixtures.event("3", subject: "konkurs-7")
        let plain = try Fixtures.event("4"), otherGroup = try Fixtures.event("5", subject: "konkurs-8")
        let d2 = Fixtures.email(second, to: "b@example.org", at: t0.addingTimeInterval(3600))
        let d3 = Fixtures.email(third, to: "c@example.org", at: t0.addingTimeInterval(3600))
        let d4 = Fixtures.email(plain, to: "d@example.org", at: t0), d5 = Fixtures.email(otherGroup, to: "e@example.org", at: t0)
        let again = Fixtures.email(first, to: "again@example.org", at: t0)
        let at = t0.addingTimeInterval(10)
        let result = try await journal.recordReplacing([(second, [d2]), (plain, [d4]), (first, [again]), (third, [d3]),
                                                        (otherGroup, [d5]), (third, [])], receivedAt: at)
        XCTAssertEqual(result.recorded, [second.key, plain.key, third.key, otherGroup.key])
        XCTAssertEqual(result.replaced, [old.id, d2.id], "the journal's by the first of the group, the batch's by the next")
        let stored = try await [old, d2, d3, d4, d5].asyncMap { try await journal.delivery($0.id) }
        XCTAssertEqual(stored.map { $0?.state }, [.failed, .failed, .pending, .pending, .pending])
        XCTAssertEqual(stored.map { $0?.reason }, ["replaced by event 2", "replaced by event 3", nil, nil, nil])
        let skipped = try await journal.delivery(again.id)
        XCTAssertNil(skipped, "an event recorded before brings no deliveries, even in a batch")
        let counts = try await journal.counts()
        XCTAssertEqual(counts[.pending], 3)
        XCTAssertEqual(counts[.failed], 2)
    }

    /// A batch of more deliveries than one statement takes, of two channels, with and
    /// without an expiry, a reason or a message: each reads back as it was planned.
    func checkLargeBatchReadsBack() async throws {
        let journal = try await openJournal()
        let mailing = try Fixtures.event("1"), hooking = try Fixtures.event("2", subject: "konkurs-9")
        let mails = (0..<1100).map {
            Fixtures.email(mailing, to: "osoba\($0)@example.org", at: t0.addingTimeInterval(Double($0) * 0.25),
                           expiresAt: $0.isMultiple(of: 2) ? t0.addingTimeInterval(86400.5) : nil, text: "Dzień dobry \($0) — ż")
        }
        let hooks = (0..<30).map { Fixtures.webhook(hooking, endpoint: "https://hooks.example.org/\($0)", at: t0) }
        var held = Fixtures.email(hooking, to: "held@example.org", at: t0)
        held.state = .held
        held.reason = "czeka na zatwierdzenie"
        var bare = Fixtures.email(hooking, to: "bare@example.org", at: t0)
        bare.payload = nil
        let result = try await journal.recordReplacing([(mailing, mails), (hooking, hooks + [held, bare])], receivedAt: t0)
        XCTAssertEqual(result.recorded, [mailing.key, hooking.key])
        XCTAssertEqual(result.replaced, [])
        for planned in mails + hooks + [held, bare] {
            let stored = try await journal.delivery(planned.id)
            XCTAssertEqual(stored, planned)
        }
        let counts = try await journal.counts()
        XCTAssertEqual(counts[.pending], 1131)
        XCTAssertEqual(counts[.held], 1)
    }
}
