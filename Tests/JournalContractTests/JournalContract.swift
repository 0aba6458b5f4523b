import Foundation
import HeroldCore
import HeroldStore
import XCTest

/// The journal's behaviours, written once against `any DeliveryJournal` and run by one
/// test class per implementation (SQLite, PostgreSQL).
protocol JournalContract: XCTestCase {
    /// A journal on this test's own store: each call opens it anew (a restart), same data.
    func openJournal() async throws -> any DeliveryJournal
}

extension JournalContract {
    var t0: Date { Fixtures.t0 }

    func checkIngestAndDuplicate() async throws {
        let journal = try await openJournal()
        let e1 = try Fixtures.event("1")
        let d1 = Fixtures.email(e1, to: "a@example.org", at: t0), d2 = Fixtures.email(e1, to: "b@example.org", at: t0)
        let first = try await journal.recordReplacing([(e1, [d1, d2])], receivedAt: t0)
        XCTAssertEqual(first.recorded, [e1.key])
        let known = try await journal.contains(e1.key), unknown = try await journal.contains(EventKey(source: "/other", id: "1"))
        XCTAssertTrue(known)
        XCTAssertFalse(unknown)
        // The same (source, id) again, even planning another delivery: nothing new.
        let d3 = Fixtures.email(e1, to: "c@example.org", at: t0)
        let second = try await journal.recordReplacing([(e1, [d3])], receivedAt: t0.addingTimeInterval(5))
        XCTAssertEqual(second.recorded, [])
        let missing = try await journal.delivery(d3.id)
        XCTAssertNil(missing)
        // A duplicate inside one batch is recorded once.
        let e2 = try Fixtures.event("2")
        let twice = try await journal.recordReplacing([(e2, [Fixtures.email(e2, to: "a@example.org", at: t0)]),
                                                       (e2, [Fixtures.email(e2, to: "z@example.org", at: t0)])], receivedAt: t0)
        XCTAssertEqual(twice.recorded, [e2.key])
        let counts = try await journal.counts()
        XCTAssertEqual(counts[.pending], 3)
        XCTAssertEqual(counts.count, DeliveryState.allCases.count)
        let since = try await journal.firstReceivedAt()
        XCTAssertEqual(since, t0)
        let stored = try await journal.delivery(d1.id)
        XCTAssertEqual(stored, d1, "a delivery reads back as it was planned")
    }

    func checkBatchIsAllOrNothing() async throws {
        let journal = try await openJournal()
        let e1 = try Fixtures.event("1"), e2 = try Fixtures.event("2")
        let d1 = Fixtures.email(e1, to: "a@example.org", at: t0)
        var clash = Fixtures.email(e2, to: "b@example.org", at: t0)
        clash.id = d1.id
        do {
            _ = try await journal.recordReplacing([(e1, [d1]), (e2, [clash])], receivedAt: t0)
            XCTFail("a batch with two deliveries of one id should fail")
        } catch let error as JournalError {
            XCTAssertEqual(error.kind, .invalid, "\(error)")
        }
        let recorded = try await journal.contains(e1.key)
        XCTAssertFalse(recorded, "nothing of a failed batch stays")
    }

    func checkReplacement() async throws {
        let journal = try await openJournal()
        let old = try Fixtures.event("1", subject: "konkurs-7")
        let waiting = Fixtures.email(old, to: "a@example.org", at: t0.addingTimeInterval(3600))
        let soon = Fixtures.email(old, to: "b@example.org", at: t0)
        _ = try await journal.recordReplacing([(old, [waiting, soon])], receivedAt: t0)
        let claim = try await journal.claimEmail(now: t0, limit: 1)
        XCTAssertEqual(claim.claimed.map(\.id), [soon.id])
        _ = try await journal.record([DeliveryOutcome(id: soon.id, action: .recordSent(reply: "250 OK"), at: t0)])

        let update = try Fixtures.event("2", subject: "konkurs-7")
        let fresh = Fixtures.email(update, to: "a@example.org", at: t0.addingTimeInterval(3600))
        let result = try await journal.recordReplacing([(update, [fresh])], receivedAt: t0.addingTimeInterval(10))
        XCTAssertEqual(result.recorded, [update.key])
        XCTAssertEqual(result.replaced, [waiting.id], "only the delivery still to be sent is replaced")
        let replaced = try await journal.delivery(waiting.id), sent = try await journal.delivery(soon.id)
        XCTAssertEqual(replaced?.state, .failed)
        XCTAssertEqual(replaced?.reason, "replaced by event 2")
        XCTAssertEqual(sent?.state, .sent, "a sent delivery is never touched")
        let other = try Fixtures.event("3", subject: "konkurs-8")
        let unrelated = try await journal.recordReplacing([(other, [])], receivedAt: t0)
        XCTAssertEqual(unrelated.replaced, [])
    }

    func checkClaimRecordLifecycle() async throws {
        let journal = try await openJournal()
        let e = try Fixtures.event("1")
        let a = Fixtures.email(e, to: "a@example.org", at: t0), b = Fixtures.email(e, to: "b@example.org", at: t0.addingTimeInterval(1))
        let c = Fixtures.email(e, to: "c@example.org", at: t0.addingTimeInterval(2))
        let d = Fixtures.email(e, to: "d@example.org", at: t0.addingTimeInterval(3))
        let later = Fixtures.email(e, to: "later@example.org", at: t0.addingTimeInterval(3600))
        _ = try await journal.recordReplacing([(e, [a, b, c, d, later])], receivedAt: t0)
        let now = t0.addingTimeInterval(10)

        let first = try await journal.claimEmail(now: now, limit: 3)
        XCTAssertEqual(first.claimed.map(\.id), [a.id, b.id, c.id], "earliest due first, up to the limit")
        XCTAssertEqual(first.claimed.map(\.attempts), [1, 1, 1])
        XCTAssertEqual(first.claimed.map(\.state), [.inflight, .inflight, .inflight])
        XCTAssertEqual(first.firstAttempts[a.id], now)
        XCTAssertEqual(first.arrivals[a.id], t0)
        let again = try await journal.claimEmail(now: now, limit: 10)
        XCTAssertEqual(again.claimed.map(\.id), [d.id], "in flight is not claimed twice; not yet due is not claimed")

        let changed = try await journal.record([
            DeliveryOutcome(id: a.id, action: .recordSent(reply: "250 2.0.0 OK"), at: now),
            DeliveryOutcome(id: b.id, action: .recordDeferred(Fixtures.tempfail, until: now.addingTimeInterval(60)), at: now),
            DeliveryOutcome(id: c.id, action: .recordFailed(Fixtures.permfail), at: now),
            DeliveryOutcome(id: d.id, action: .recordInterrupted(reason: "login refused"), at: now),
            DeliveryOutcome(id: later.id, action: .recordSent(reply: "250"), at: now),
        ])
        XCTAssertEqual(changed, 4, "an outcome for a delivery not in flight changes nothing")
        let states = try await [a, b, c, d, later].asyncMap { try await journal.delivery($0.id) }
        XCTAssertEqual(states.map { $0?.state }, [.sent, .deferred, .failed, .pending, .pending])
        XCTAssertEqual(states[1]?.notBefore, now.addingTimeInterval(60))
        XCTAssertEqual(states[2]?.reason, Fixtures.permfail.description)
        XCTAssertEqual(states[3]?.attempts, 0, "an interruption is not an attempt")
        XCTAssertEqual(states[3]?.reason, "login refused")
        let attempts = try await journal.attempts(for: a.id)
        XCTAssertEqual(attempts.map(\.outcome), [.sent])
        XCTAssertEqual(attempts.first?.message, "250 2.0.0 OK")
        let failed = try await journal.attempts(for: c.id)
        XCTAssertEqual(failed.first?.code, "smtp.550")
        let interrupted = try await journal.attempts(for: d.id)
        XCTAssertEqual(interrupted, [])

        let twice = try await journal.record([DeliveryOutcome(id: a.id, action: .recordFailed(Fixtures.permfail), at: now)])
        XCTAssertEqual(twice, 0, "a sent delivery stays sent")
        let retry = try await journal.claimEmail(now: now.addingTimeInterval(60), limit: 10)
        XCTAssertEqual(Set(retry.claimed.map(\.id)), [b.id, d.id], "deferred comes back when due, interrupted at once")
        XCTAssertEqual(retry.claimed.first { $0.id == b.id }?.attempts, 2)
        XCTAssertEqual(retry.firstAttempts[b.id], now, "the lifetime counts from the first try")
    }

    func checkClaimLimitsPerDestination() async throws {
        let journal = try await openJournal()
        let e = try Fixtures.event("1")
        let mails = (0..<5).map { Fixtures.email(e, to: "m\($0)@example.org", at: t0.addingTimeInterval(Double($0))) }
        let hooks = (0..<3).map { Fixtures.webhook(e, endpoint: "cms", at: t0.addingTimeInterval(Double($0))) }
        let gone = Fixtures.webhook(e, endpoint: "removed", at: t0)
        _ = try await journal.recordReplacing([(e, mails + hooks + [gone])], receivedAt: t0)
        let claim = try await journal.claim(now: t0.addingTimeInterval(10), limits: [.smtp: 2, .webhook("cms"): 1,
                                                                                     .webhook("idle"): 4],
                                            others: 0, lateness: .never)
        XCTAssertEqual(claim.claimed.filter { $0.channel == .email }.map(\.id), [mails[0].id, mails[1].id])
        XCTAssertEqual(claim.claimed.filter { $0.channel == .webhook }.map(\.id), [hooks[0].id])
        let others = try await journal.claim(now: t0.addingTimeInterval(10), limits: [.smtp: 0, .webhook("cms"): 0],
                                             others: 5, lateness: .never)
        XCTAssertEqual(others.claimed.map(\.id), [gone.id], "a destination not configured is claimed under `others`")
        let next = try await journal.nextDue(in: [.smtp])
        XCTAssertEqual(next, t0.addingTimeInterval(2))
        let cms = try await journal.nextDue(in: [.webhook("cms"), .webhook("idle")])
        XCTAssertEqual(cms, t0.addingTimeInterval(1), "the second webhook waits; the first is in flight")
        let none = try await journal.nextDue(in: [.webhook("idle")])
        XCTAssertNil(none, "nothing of that lane is queued")
    }

    func checkTooLateAtClaim() async throws {
        let journal = try await openJournal()
        let e = try Fixtures.event("1")
        let expiring = Fixtures.email(e, to: "a@example.org", at: t0, expiresAt: t0.addingTimeInterval(60))
        let reminder = Fixtures.email(e, to: "b@example.org", at: t0, rule: "reminder")
        let fine = Fixtures.email(e, to: "c@example.org", at: t0, rule: "reminder")
        _ = try await journal.recordReplacing([(e, [expiring, reminder])], receivedAt: t0)
        let lateness = Lateness(grace: 3600, scheduledRules: ["reminder"], describe: RFC3339.format)
        let claim = try await journal.claimEmail(now: t0.addingTimeInterval(7200), limit: 10, lateness: lateness)
        XCTAssertEqual(claim.claimed, [])
        XCTAssertEqual(Set(claim.expired.map(\.id)), [expiring.id, reminder.id])
        XCTAssertTrue(claim.expired.allSatisfy { $0.state == .failed })
        let late = try await journal.delivery(reminder.id)
        XCTAssertEqual(late?.state, .failed)
        XCTAssertEqual(late?.reason, lateness.reason(dueAt: t0))
        let attempts = try await journal.attempts(for: expiring.id)
        XCTAssertEqual(attempts.map(\.code), [DeliveryLifecycle.expiredCode])

        // Within the grace it goes out late.
        let e2 = try Fixtures.event("2")
        let onTime = Fixtures.email(e2, to: fine.recipient, at: t0, rule: "reminder")
        _ = try await journal.recordReplacing([(e2, [onTime])], receivedAt: t0)
        let ok = try await journal.claimEmail(now: t0.addingTimeInterval(600), limit: 10, lateness: lateness)
        XCTAssertEqual(ok.claimed.map(\.id), [onTime.id])
    }

    func checkRecoverInflight() async throws {
        let journal = try await openJournal()
        let (e, deliveries) = try Fixtures.batch("1", count: 3)
        _ = try await journal.recordReplacing([(e, deliveries)], receivedAt: t0)
        let claim = try await journal.claimEmail(now: t0.addingTimeInterval(10), limit: 2)
        let restarted = try await openJournal()
        let recovered = try await restarted.recoverInflight()
        XCTAssertEqual(recovered, 2)
        let again = try await restarted.claimEmail(now: t0.addingTimeInterval(20), limit: 10)
        XCTAssertEqual(Set(again.claimed.map(\.id)), Set(deliveries.map(\.id)))
        XCTAssertEqual(again.claimed.filter { Set(claim.claimed.map(\.id)).contains($0.id) }.map(\.attempts), [2, 2],
                       "taken up again with the same id, the attempt counted")
    }

    func checkLanesPersisted() async throws {
        let journal = try await openJournal()
        let paused = LaneRecord(destination: .smtp, health: LaneHealth(state: .paused(reason: "login refused"), failures: 0,
                                                                     lastError: "login refused"), updatedAt: t0)
        let backing = LaneRecord(destination: .webhook("cms"),
                                 health: LaneHealth(state: .backingOff(until: t0.addingTimeInterval(30)), failures: 2,
                                                    lastError: "curl.7: refused"), updatedAt: t0)
        try await journal.save(paused)
        try await journal.save(backing)
        let reopened = try await openJournal()
        let lanes = try await reopened.lanes()
        XCTAssertEqual(lanes, [paused, backing])
        var open = backing
        open.health = LaneHealth()
        open.updatedAt = t0.addingTimeInterval(40)
        try await reopened.save(open)
        let after = try await journal.lanes()
        XCTAssertEqual(after.last, open)
    }

    func checkOperatorCommands() async throws {
        let journal = try await openJournal()
        let (e, d) = try Fixtures.batch("1", count: 5)
        _ = try await journal.recordReplacing([(e, d)], receivedAt: t0)
        let now = t0.addingTimeInterval(100)
        let held = try await journal.hold([d[0].id, d[1].id], reason: "sprawdzić adres", now: now)
        XCTAssertEqual(held, 2)
        _ = try await journal.claimEmail(now: now, limit: 2)  // d[2], d[3]
        let inFlight = try await journal.hold([d[2].id], reason: "x", now: now)
        XCTAssertEqual(inFlight, 0, "a delivery in flight cannot be held")
        _ = try await journal.record([DeliveryOutcome(id: d[2].id, action: .recordFailed(Fixtures.permfail), at: now),
                                      DeliveryOutcome(id: d[3].id, action: .recordSent(reply: "250"), at: now)])
        let heldNow = try await journal.delivery(d[0].id)
        XCTAssertEqual(heldNow?.reason, "sprawdzić adres")
        let released = try await journal.release([d[0].id, d[3].id], now: now.addingTimeInterval(5))
        XCTAssertEqual(released, 1, "only held deliveries are released")
        let requeued = try await journal.requeue([d[2].id, d[3].id], now: now.addingTimeInterval(5))
        XCTAssertEqual(requeued, 1, "a sent delivery is never requeued")
        let back = try await journal.delivery(d[2].id)
        XCTAssertEqual(back?.state, .pending)
        XCTAssertEqual(back?.attempts, 0)
        XCTAssertEqual(back?.notBefore, now.addingTimeInterval(5))
        let history = try await journal.attempts(for: d[2].id)
        XCTAssertEqual(history.count, 1, "the attempt history stays")
        let purgedPending = try await journal.purge([d[2].id, d[3].id])
        XCTAssertEqual(purgedPending, 0, "only failed or held deliveries are purged")
        let purged = try await journal.purge([d[1].id])
        XCTAssertEqual(purged, 1)
        let gone = try await journal.delivery(d[1].id)
        XCTAssertNil(gone)
        let stillKnown = try await journal.contains(e.key)
        XCTAssertTrue(stillKnown, "the event stays a duplicate")
        // Everything failed: requeue all, fail again, purge all.
        let claim = try await journal.claimEmail(now: now.addingTimeInterval(10), limit: 10)
        _ = try await journal.record(claim.claimed.map {
            DeliveryOutcome(id: $0.id, action: .recordFailed(Fixtures.permfail), at: now.addingTimeInterval(10))
        })
        let allRequeued = try await journal.requeueAllFailed(now: now.addingTimeInterval(20))
        XCTAssertEqual(allRequeued, claim.claimed.count)
        let claim2 = try await journal.claimEmail(now: now.addingTimeInterval(20), limit: 10)
        _ = try await journal.record(claim2.claimed.map {
            DeliveryOutcome(id: $0.id, action: .recordFailed(Fixtures.permfail), at: now.addingTimeInterval(20))
        })
        let allPurged = try await journal.purgeAllFailed()
        XCTAssertEqual(allPurged, claim2.claimed.count)
        let left = try await journal.counts()
        XCTAssertEqual(left.filter { $0.value > 0 }, [.sent: 1])
    }

    func checkReports() async throws {
        let journal = try await openJournal()
        let e = try Fixtures.event("1")
        let mails = (0..<3).map { Fixtures.email(e, to: "m\($0)@example.org", at: t0.addingTimeInterval(Double($0) * 100)) }
        let hook = Fixtures.webhook(e, endpoint: "cms", at: t0.addingTimeInterval(50))
        _ = try await journal.recordReplacing([(e, mails + [hook])], receivedAt: t0)
        let now = t0.addingTimeInterval(150)
        let claim = try await journal.claimEmail(now: now, limit: 1)
        _ = try await journal.record([DeliveryOutcome(id: claim.claimed[0].id,
                                                      action: .recordDeferred(Fixtures.tempfail, until: now.addingTimeInterval(500)),
                                                      at: now)])
        let queues = try await journal.queueSummary()
        XCTAssertEqual(queues.map(\.destination), [.smtp, .webhook("cms")])
        XCTAssertEqual(queues[0].queued, 3)
        XCTAssertEqual(queues[0].deferred, 1)
        XCTAssertEqual(queues[0].nextDue, t0.addingTimeInterval(100))
        XCTAssertEqual(queues[0].lastError, Fixtures.tempfail.description)
        XCTAssertEqual(queues[1].queued, 1)
        XCTAssertNil(queues[1].lastError)
        let due = try await journal.dueTimes(now: now)
        XCTAssertEqual(due.oldestDue, t0.addingTimeInterval(50))
        XCTAssertEqual(due.next, t0.addingTimeInterval(50))
        let tally = try await journal.tally()
        XCTAssertEqual(Set(tally.map { "\($0.destination) \($0.state.rawValue) \($0.count)" }),
                       ["smtp pending 2", "smtp deferred 1", "webhook:cms pending 1"])
        let listed = try await journal.deliveries(in: [.pending], limit: 2)
        XCTAssertEqual(listed.map(\.id), [hook.id, mails[1].id], "earliest first, up to the limit")
        let none = try await journal.deliveries(in: [], limit: 10)
        XCTAssertEqual(none, [])
    }

    func checkAdminNotices() async throws {
        let journal = try await openJournal()
        let (e, d) = try Fixtures.batch("1", count: 3)
        _ = try await journal.recordReplacing([(e, d)], receivedAt: t0)
        let now = t0.addingTimeInterval(10)
        _ = try await journal.hold([d[0].id], reason: "bad address", now: now)
        let claim = try await journal.claimEmail(now: now, limit: 1)
        _ = try await journal.record([DeliveryOutcome(id: claim.claimed[0].id, action: .recordFailed(Fixtures.permfail), at: now)])
        try await journal.save(LaneRecord(destination: .webhook("cms"), health: LaneHealth(state: .paused(reason: "cert"),
                                                                                         lastError: "cert"), updatedAt: now))
        let none = try await journal.lastAdminSummary()
        XCTAssertNil(none)
        let problems = try await journal.untoldProblems(limit: 10)
        XCTAssertEqual(problems.map(\.kind).first, .paused, "paused lanes first")
        XCTAssertEqual(problems.first?.waiting, 0)
        XCTAssertEqual(Set(problems.dropFirst().map { "\($0.kind) \($0.delivery?.rawValue ?? "") \($0.reason)" }),
                       ["held \(d[0].id) bad address", "failed \(d[1].id) \(Fixtures.permfail.description)"])
        try await journal.recordAdminSummary(sentAt: now, covered: problems)
        let told = try await journal.untoldProblems(limit: 10)
        XCTAssertEqual(told, [], "what a summary told is not told again")
        let last = try await openJournal().lastAdminSummary()
        XCTAssertEqual(last, now)
        _ = try await journal.requeue([d[1].id], now: now.addingTimeInterval(5))
        let claim2 = try await journal.claimEmail(now: now.addingTimeInterval(5), limit: 5)
        _ = try await journal.record(claim2.claimed.map {
            DeliveryOutcome(id: $0.id, action: .recordFailed(Fixtures.permfail), at: now.addingTimeInterval(6))
        })
        let news = try await journal.untoldProblems(limit: 10)
        XCTAssertEqual(Set(news.compactMap(\.delivery)), [d[1].id, d[2].id], "failed again after a requeue is news")
    }

    func checkRetention() async throws {
        let journal = try await openJournal()
        let pseudonym = RecipientPseudonym(key: Array(repeating: 7, count: 32))
        let (old, d) = try Fixtures.batch("old", count: 3)
        _ = try await journal.recordReplacing([(old, d)], receivedAt: t0)
        let claim = try await journal.claimEmail(now: t0.addingTimeInterval(10), limit: 2)
        XCTAssertEqual(claim.claimed.map(\.id), [d[0].id, d[1].id])
        _ = try await journal.record([DeliveryOutcome(id: claim.claimed[0].id, action: .recordSent(reply: "250 ok a@example.org"), at: t0),
                                      DeliveryOutcome(id: claim.claimed[1].id, action: .recordFailed(Fixtures.permfail), at: t0)])
        let day = RetentionPolicy.day
        let policy = RetentionPolicy(content: 30 * day, records: 365 * day, duplicates: 400 * day)
        let month = try await journal.applyRetention(policy, now: t0.addingTimeInterval(31 * day), pseudonym: pseudonym,
                                                     batchSize: 1)
        XCTAssertEqual(month.contentErased, 2, "finished deliveries lose their content; the pending one keeps it")
        XCTAssertEqual(month.eventBodiesErased, 0, "an event with a delivery still to do keeps its body")
        let erased = try await journal.delivery(d[0].id)
        XCTAssertNil(erased?.payload)
        XCTAssertEqual(erased?.recipient, pseudonym.hash(d[0].recipient))
        XCTAssertEqual(erased?.state, .sent)
        let replies = try await journal.attempts(for: d[0].id)
        XCTAssertEqual(replies.map(\.message), [nil])
        let pending = try await journal.delivery(d[2].id)
        XCTAssertNotNil(pending?.payload)
        let year = try await journal.applyRetention(policy, now: t0.addingTimeInterval(366 * day), pseudonym: pseudonym,
                                                    batchSize: 500)
        XCTAssertEqual(year.deliveriesDeleted, 2)
        XCTAssertEqual(year.eventKeysDeleted, 0, "the event still has a delivery")
        let gone = try await journal.delivery(d[0].id)
        XCTAssertNil(gone)
        let counts = try await journal.counts()
        XCTAssertEqual(counts[.pending], 1)
    }
}

extension JournalContract {
    func checkForgetAndHistory() async throws {
        let journal = try await openJournal()
        let pseudonym = RecipientPseudonym(key: Array(repeating: 9, count: 32))
        let e = try Fixtures.event("1")
        let sent = Fixtures.email(e, to: "anna@example.org", at: t0)
        let queued = Fixtures.email(e, to: "Anna@Example.org", at: t0.addingTimeInterval(3600))
        let naming = Fixtures.email(e, to: "bob@example.org", at: t0.addingTimeInterval(3600),
                                    text: "Laureatka: anna@example.org")
        let namedSent = Fixtures.email(e, to: "carl@example.org", at: t0, text: "Gratulacje dla anna@example.org")
        let unrelated = Fixtures.email(e, to: "dora@example.org", at: t0.addingTimeInterval(3600))
        _ = try await journal.recordReplacing([(e, [sent, queued, naming, namedSent, unrelated])], receivedAt: t0)
        let claim = try await journal.claimEmail(now: t0.addingTimeInterval(1), limit: 10)
        _ = try await journal.record(claim.claimed.map { DeliveryOutcome(id: $0.id, action: .recordSent(reply: "250"), at: t0) })

        let history = try await journal.history(address: "anna@example.org", pseudonym: pseudonym)
        XCTAssertEqual(Set(history.filter { $0.relation == .recipient }.map(\.delivery.id)), [sent.id, queued.id],
                       "own deliveries, whatever the address's case")
        XCTAssertEqual(Set(history.filter { $0.relation == .mentioned }.map(\.delivery.id)), [naming.id, namedSent.id])
        XCTAssertEqual(history.first { $0.delivery.id == sent.id }?.attempts.map(\.outcome), [.sent])
        XCTAssertEqual(history.first?.eventType, "contest.deadline")

        let report = try await journal.forget(addresses: ["anna@example.org"], names: [], now: t0.addingTimeInterval(60),
                                              pseudonym: pseudonym, inFlightWait: .seconds(1))
        XCTAssertEqual(report.erased, 1)
        XCTAssertEqual(report.cancelled, 1)
        XCTAssertEqual(report.othersRewritten, 1)
        XCTAssertEqual(report.othersErased, 1)
        XCTAssertEqual(report.inFlight, 0)
        let cancelled = try await journal.delivery(queued.id)
        XCTAssertEqual(cancelled?.state, .failed)
        XCTAssertEqual(cancelled?.reason, Journal.erasedReason)
        XCTAssertEqual(cancelled?.recipient, Journal.erasedRecipient)
        XCTAssertNil(cancelled?.payload)
        guard case .email(let rewritten)? = try await journal.delivery(naming.id)?.payload else {
            return XCTFail("the message to someone else still goes out")
        }
        XCTAssertEqual(rewritten.text, "Laureatka: \(Journal.erasedText)")
        let kept = try await journal.delivery(unrelated.id)
        XCTAssertEqual(kept, unrelated, "a message that does not name the person is untouched")
        let after = try await journal.history(address: "anna@example.org", pseudonym: pseudonym)
        XCTAssertEqual(after.map(\.delivery.id), [], "nothing links the journal to the person any more")
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
