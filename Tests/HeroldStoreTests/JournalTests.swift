import Foundation
import GRDB
import HeroldCore
import XCTest
@testable import HeroldStore

final class JournalTests: XCTestCase {
    var directory: URL!
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herold-journal-\(UUID().uuidString)", isDirectory: true)
            .appendingPathComponent("state", isDirectory: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory.deletingLastPathComponent())
    }

    private func event(_ id: String, source: String = "/cms") throws -> CloudEvent {
        try CloudEvent(attributes: [
            "specversion": .string("1.0"), "id": .string(id), "source": .string(source),
            "type": .string("contest.deadline"), "subject": .string("Konkurs \(id)"),
            "data": .object(["contest": .string("Lider Pomocy Społecznej")]),
        ])
    }

    private func delivery(_ event: CloudEvent, to recipient: String, at notBefore: Date,
                          state: DeliveryState = .pending, id: DeliveryID? = nil) -> Delivery {
        Delivery(
            id: id ?? DeliveryID.derive(event: event.key, rule: "r", action: 0, recipient: recipient,
                                        scheduledAt: notBefore),
            event: event.key, rule: "r", action: 0, channel: .email, recipient: recipient,
            notBefore: notBefore, state: state,
            payload: .email(EmailContent(from: "ROPS <p@example.org>", to: recipient,
                                         subject: "Przypomnienie", text: "Zostało 7 dni.")))
    }

    private let tempfail = DeliveryFailure(kind: .transient, code: "smtp.450", message: "mailbox busy")
    private let permfail = DeliveryFailure(kind: .permanent, code: "smtp.550", message: "no such user")

    func testReadersKeepASmallPageCacheAndTheWriterSQLitesDefault() async throws {
        // A large journal's counts and metrics scans would otherwise grow each reading
        // connection by 2 MB (see Journal.readerCacheKiB); ingest keeps the writer's cache.
        let journal = try Journal(directory: directory)
        let reader = try await journal.pragma("cache_size")
        XCTAssertEqual(reader, "-\(Journal.readerCacheKiB)")
        let writer = try await journal.pool.write { try String.fetchOne($0, sql: "PRAGMA cache_size") }
        XCTAssertEqual(writer, "-2000")
    }

    func testRecordThenDuplicateIsSkipped() async throws {
        let journal = try Journal(directory: directory)
        let e1 = try event("1")
        let d1 = delivery(e1, to: "a@example.org", at: t0)
        let d2 = delivery(e1, to: "b@example.org", at: t0)
        let first = try await journal.record([(e1, [d1, d2])], receivedAt: t0)
        XCTAssertEqual(first, [e1.key])
        let isRecorded = try await journal.contains(e1.key)
        XCTAssertTrue(isRecorded)
        let isOtherRecorded = try await journal.contains(EventKey(source: "/other", id: "1"))
        XCTAssertFalse(isOtherRecorded)

        // The same (source, id) again, even planning another delivery: nothing new.
        let d3 = delivery(e1, to: "c@example.org", at: t0)
        let second = try await journal.record([(e1, [d3])], receivedAt: t0.addingTimeInterval(5))
        XCTAssertEqual(second, [])
        let counts = try await journal.counts()
        XCTAssertEqual(counts[.pending], 2)
        let missing = try await journal.delivery(d3.id)
        XCTAssertNil(missing)

        // A duplicate inside one batch is recorded once.
        let e2 = try event("2")
        let twice = try await journal.record([(e2, [delivery(e2, to: "a@example.org", at: t0)]),
                                              (e2, [delivery(e2, to: "z@example.org", at: t0)])], receivedAt: t0)
        XCTAssertEqual(twice, [e2.key])
        let after = try await journal.counts()
        XCTAssertEqual(after[.pending], 3)
    }

    func testBatchIsAllOrNothing() async throws {
        let journal = try Journal(directory: directory)
        let e1 = try event("1"), e2 = try event("2")
        let d1 = delivery(e1, to: "a@example.org", at: t0)
        // e2's delivery reuses d1's id: the primary key refuses it, so the whole batch goes.
        let clash = delivery(e2, to: "b@example.org", at: t0, id: d1.id)
        do {
            _ = try await journal.record([(e1, [d1]), (e2, [clash])], receivedAt: t0)
            XCTFail("the batch should have failed")
        } catch let error as JournalError {
            XCTAssertEqual(error.kind, .invalid)
            XCTAssertTrue(error.description.contains(Journal.fileName), error.description)
        }
        let hasE1 = try await journal.contains(e1.key)
        XCTAssertFalse(hasE1, "the first event of a failed batch must not stay recorded")
        let counts = try await journal.counts()
        XCTAssertEqual(counts.values.reduce(0, +), 0)

        // A delivery that names another event is refused too, and rolls back as well.
        let stray = delivery(e1, to: "c@example.org", at: t0)
        do {
            _ = try await journal.record([(e2, [delivery(e2, to: "x@example.org", at: t0)]), (e2, []), (e1, [stray, stray])],
                                         receivedAt: t0)
            XCTFail("the batch should have failed")
        } catch let error as JournalError {
            XCTAssertEqual(error.kind, .invalid)
        }
        let hasE2 = try await journal.contains(e2.key)
        XCTAssertFalse(hasE2)
    }

    func testClaimDueRespectsNotBeforeOrderAndLimit() async throws {
        let journal = try Journal(directory: directory)
        let e = try event("1")
        let late = delivery(e, to: "late@example.org", at: t0.addingTimeInterval(-10))
        let oldest = delivery(e, to: "oldest@example.org", at: t0.addingTimeInterval(-20))
        let recent = delivery(e, to: "recent@example.org", at: t0.addingTimeInterval(-5))
        let future = delivery(e, to: "future@example.org", at: t0.addingTimeInterval(100))
        let held = delivery(e, to: "held@example.org", at: t0.addingTimeInterval(-30), state: .held)
        _ = try await journal.record([(e, [late, oldest, recent, future, held])], receivedAt: t0)

        let nextBefore = try await journal.nextDue()
        XCTAssertEqual(nextBefore, oldest.notBefore)
        let firstTwo = try await journal.claimDue(now: t0, limit: 2)
        XCTAssertEqual(firstTwo.map(\.recipient), ["oldest@example.org", "late@example.org"])
        XCTAssertEqual(firstTwo.map(\.state), [.inflight, .inflight])
        XCTAssertEqual(firstTwo.map(\.attempts), [1, 1])
        let stored = try await journal.delivery(oldest.id)
        XCTAssertEqual(stored?.state, .inflight)
        XCTAssertEqual(stored?.payload, oldest.payload)

        let rest = try await journal.claimDue(now: t0, limit: 10)
        XCTAssertEqual(rest.map(\.recipient), ["recent@example.org"])
        let none = try await journal.claimDue(now: t0, limit: 10)
        XCTAssertEqual(none, [])
        let next = try await journal.nextDue()
        XCTAssertEqual(next, future.notBefore)
        let due = try await journal.claimDue(now: t0.addingTimeInterval(100), limit: 10)
        XCTAssertEqual(due.map(\.id), [future.id])
        let nothingLeft = try await journal.nextDue()
        XCTAssertNil(nothingLeft)
    }

    func testStateTransitionsAreRecordedWithAttempts() async throws {
        let journal = try Journal(directory: directory)
        let e = try event("1")
        let d = delivery(e, to: "a@example.org", at: t0)
        let bad = delivery(e, to: "b@example.org", at: t0)
        _ = try await journal.record([(e, [d, bad])], receivedAt: t0)
        _ = try await journal.claimDue(now: t0, limit: 10)

        try await journal.markDeferred(d.id, failure: tempfail, until: t0.addingTimeInterval(60), at: t0)
        let deferred = try await journal.delivery(d.id)
        XCTAssertEqual(deferred?.state, .deferred)
        XCTAssertEqual(deferred?.notBefore, t0.addingTimeInterval(60))
        XCTAssertTrue(deferred?.reason?.contains("smtp.450") == true)
        let tooEarly = try await journal.claimDue(now: t0.addingTimeInterval(30), limit: 10)
        XCTAssertEqual(tooEarly, [])
        let retry = try await journal.claimDue(now: t0.addingTimeInterval(60), limit: 10)
        XCTAssertEqual(retry.map(\.id), [d.id])
        XCTAssertEqual(retry.first?.attempts, 2)
        try await journal.markSent(d.id, at: t0.addingTimeInterval(61), reply: "250 2.0.0 Ok: queued")
        let sent = try await journal.delivery(d.id)
        XCTAssertEqual(sent?.state, .sent)
        XCTAssertNil(sent?.reason)
        let history = try await journal.attempts(for: d.id)
        XCTAssertEqual(history, [
            Attempt(deliveryID: d.id, at: t0, outcome: .deferred, code: "smtp.450", message: "mailbox busy"),
            Attempt(deliveryID: d.id, at: t0.addingTimeInterval(61), outcome: .sent, code: nil,
                    message: "250 2.0.0 Ok: queued"),
        ])

        try await journal.markFailed(bad.id, failure: permfail, at: t0.addingTimeInterval(1))
        let failed = try await journal.delivery(bad.id)
        XCTAssertEqual(failed?.state, .failed)
        XCTAssertEqual(failed?.reason, "permanent smtp.550: no such user")
        try await journal.hold(bad.id, reason: "template contest-reminder: unknown variable", at: t0)
        let heldNow = try await journal.delivery(bad.id)
        XCTAssertEqual(heldNow?.state, .held)
        let badHistory = try await journal.attempts(for: bad.id)
        XCTAssertEqual(badHistory.map(\.outcome), [.failed], "holding is not an attempt")

        do {
            try await journal.markSent(DeliveryID(rawValue: "hd_nope"), at: t0, reply: "250")
            XCTFail("marking an unknown delivery should fail")
        } catch let error as JournalError {
            XCTAssertEqual(error.kind, .notFound)
        }
    }

    func testRecoverInflightPutsCrashedClaimsBack() async throws {
        let journal = try Journal(directory: directory)
        let e = try event("1")
        _ = try await journal.record([(e, [delivery(e, to: "a@example.org", at: t0),
                                           delivery(e, to: "b@example.org", at: t0)])], receivedAt: t0)
        _ = try await journal.claimDue(now: t0, limit: 10)
        let inflight = try await journal.counts()
        XCTAssertEqual(inflight[.inflight], 2)

        // A new process after a crash.
        let restarted = try Journal(directory: directory)
        let recovered = try await restarted.recoverInflight()
        XCTAssertEqual(recovered, 2)
        let counts = try await restarted.counts()
        XCTAssertEqual(counts[.pending], 2)
        XCTAssertEqual(counts[.inflight], 0)
        let again = try await restarted.claimDue(now: t0, limit: 10)
        XCTAssertEqual(again.map(\.attempts), [2, 2])
    }

    func testCountsListingAndRequeue() async throws {
        let journal = try Journal(directory: directory)
        let e = try event("1")
        let failed = delivery(e, to: "failed@example.org", at: t0)
        let held = delivery(e, to: "held@example.org", at: t0, state: .held)
        let sent = delivery(e, to: "sent@example.org", at: t0)
        let other = delivery(e, to: "other@example.org", at: t0)
        _ = try await journal.record([(e, [failed, held, sent, other])], receivedAt: t0)
        _ = try await journal.claimDue(now: t0, limit: 10)
        try await journal.markFailed(failed.id, failure: permfail, at: t0)
        try await journal.markFailed(other.id, failure: permfail, at: t0)
        try await journal.markSent(sent.id, at: t0, reply: "250")

        let counts = try await journal.counts()
        XCTAssertEqual(counts, [.pending: 0, .inflight: 0, .sent: 1, .deferred: 0, .held: 1, .failed: 2])
        let dead = try await journal.deliveries(in: [.failed, .held], limit: 10)
        XCTAssertEqual(Set(dead.map(\.id)), [failed.id, held.id, other.id])
        XCTAssertEqual(dead.first { $0.id == failed.id }?.reason, "permanent smtp.550: no such user")
        let limited = try await journal.deliveries(in: [.failed, .held], limit: 1)
        XCTAssertEqual(limited.count, 1)

        let later = t0.addingTimeInterval(3600)
        let requeued = try await journal.requeue([failed.id, held.id, sent.id], now: later)
        XCTAssertEqual(requeued, 2, "a sent delivery is never put back")
        let back = try await journal.delivery(failed.id)
        XCTAssertEqual(back?.state, .pending)
        XCTAssertEqual(back?.attempts, 0)
        XCTAssertNil(back?.reason)
        XCTAssertEqual(back?.notBefore, later)
        let stillSent = try await journal.delivery(sent.id)
        XCTAssertEqual(stillSent?.state, .sent)

        let all = try await journal.requeueAllFailed(now: later)
        XCTAssertEqual(all, 1)
        let final = try await journal.counts()
        XCTAssertEqual(final[.pending], 3)
        XCTAssertEqual(final[.failed], 0)
        // Attempt history survives a requeue.
        let history = try await journal.attempts(for: failed.id)
        XCTAssertEqual(history.map(\.outcome), [.failed])
    }

    func testReopeningKeepsEverythingAndFilesArePrivate() async throws {
        let e = try event("1")
        let email = delivery(e, to: "a@example.org", at: t0)
        let body = Data(#"{"id":"1","specversion":"1.0"}"#.utf8)
        let webhook = Delivery(
            id: DeliveryID.derive(event: e.key, rule: "r", action: 1, recipient: "hub", scheduledAt: nil),
            event: e.key, rule: "r", action: 1, channel: .webhook, recipient: "hub", notBefore: t0,
            state: .pending,
            payload: .webhook(WebhookContent(endpoint: "hub", contentType: "application/cloudevents+json", body: body)))
        let broken = Delivery(
            id: DeliveryID.derive(event: e.key, rule: "r", action: 2, recipient: "x@example.org", scheduledAt: nil),
            event: e.key, rule: "r", action: 2, channel: .email, recipient: "x@example.org", notBefore: t0,
            state: .held, payload: nil, reason: "template missing")
        do {
            let journal = try Journal(directory: directory)
            _ = try await journal.record([(e, [email, webhook, broken])], receivedAt: t0)
            try journal.close()
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700,
                       "the journal holds messages to people: private to herold, not to its group")
        let fileAttributes = try FileManager.default.attributesOfItem(
            atPath: directory.appendingPathComponent(Journal.fileName).path)
        XCTAssertEqual((fileAttributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)

        let reopened = try Journal(directory: directory)
        let mode = try await reopened.pragma("journal_mode")
        XCTAssertEqual(mode, "wal")
        let synchronous = try await reopened.pragma("synchronous")
        XCTAssertEqual(synchronous, "2", "synchronous=FULL: a recorded event survives a power cut")
        let known = try await reopened.contains(e.key)
        XCTAssertTrue(known)
        let storedEmail = try await reopened.delivery(email.id)
        XCTAssertEqual(storedEmail, email)
        let storedWebhook = try await reopened.delivery(webhook.id)
        XCTAssertEqual(storedWebhook, webhook)
        let storedBroken = try await reopened.delivery(broken.id)
        XCTAssertEqual(storedBroken, broken)
    }

    func testNotADatabaseIsReportedAsCorrupt() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(String(repeating: "this is not sqlite ", count: 100).utf8)
            .write(to: directory.appendingPathComponent(Journal.fileName))
        XCTAssertThrowsError(try Journal(directory: directory)) { error in
            guard let error = error as? JournalError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .corrupt)
            XCTAssertTrue(error.description.contains(Journal.fileName), error.description)
        }
    }

    func testDaemonAndCLIInstancesWorkConcurrently() async throws {
        let daemon = try Journal(directory: directory)
        let cli = try Journal(directory: directory)
        var batch: [(event: CloudEvent, deliveries: [Delivery])] = []
        for i in 0..<40 {
            let e = try event("e\(i)")
            batch.append((e, [delivery(e, to: "a@example.org", at: t0)]))
        }
        _ = try await daemon.record(batch, receivedAt: t0)
        let seenByCLI = try await cli.counts()
        XCTAssertEqual(seenByCLI[.pending], 40)

        // Both claim at once: every delivery is claimed exactly once.
        let t0 = self.t0
        let claimed = try await withThrowingTaskGroup(of: [DeliveryID].self) { group in
            for journal in [daemon, cli] {
                group.addTask {
                    var mine: [DeliveryID] = []
                    while true {
                        let batch = try await journal.claimDue(now: t0, limit: 3)
                        if batch.isEmpty { return mine }
                        mine += batch.map(\.id)
                    }
                }
            }
            var all: [DeliveryID] = []
            for try await part in group { all += part }
            return all
        }
        XCTAssertEqual(claimed.count, 40)
        XCTAssertEqual(Set(claimed).count, 40)

        // The CLI requeues while the daemon records new events.
        let failedID = claimed[0]
        try await daemon.markFailed(failedID, failure: permfail, at: t0)
        let late = try event("late")
        async let requeued = cli.requeueAllFailed(now: t0)
        async let recorded = daemon.record([(late, [])], receivedAt: t0)
        let (n, keys) = try await (requeued, recorded)
        XCTAssertEqual(n, 1)
        XCTAssertEqual(keys.count, 1)
        let fromDaemon = try await daemon.delivery(failedID)
        XCTAssertEqual(fromDaemon?.state, .pending)
    }
}

final class JournalErrorKindTests: XCTestCase {
    /// Ingest pauses on a full disk (and frees its reserve) whatever extended code SQLite gives.
    func testDiskFullIsToldFromOtherTransientErrors() {
        func error(_ code: Int32) -> JournalError {
            JournalError(kind: .transient, file: "j", operation: "record", message: "m", sqliteCode: code)
        }
        XCTAssertTrue(error(13).isDiskFull, "SQLITE_FULL")
        XCTAssertFalse(error(10).isDiskFull, "SQLITE_IOERR")
        XCTAssertFalse(error(5).isDiskFull, "SQLITE_BUSY")
        XCTAssertFalse(error(778).isDiskFull, "SQLITE_IOERR_WRITE (10 | 3 << 8)")
        XCTAssertFalse(JournalError(kind: .transient, file: "j", operation: "o", message: "m").isDiskFull)
    }
}
