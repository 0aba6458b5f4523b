import Foundation
import HeroldCore
import XCTest

final class DeliveryLifecycleTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    let lifecycle = DeliveryLifecycle(retry: RetryPolicy(firstDelay: 60, maxDelay: 3600, lifetime: 5 * 86400, jitter: 0.25))
    let tempfail = DeliveryFailure(kind: .transient, code: "smtp.451", message: "try again later")
    let permfail = DeliveryFailure(kind: .permanent, code: "smtp.550", message: "no such user")

    private func delivery(_ state: DeliveryState, attempts: Int = 1, expiresAt: Date? = nil) -> Delivery {
        Delivery(id: DeliveryID(rawValue: "hd_test"), event: EventKey(source: "/cms", id: "1"), rule: "r", action: 0,
                 channel: .email, recipient: "gops@example.org", notBefore: t0, state: state,
                 payload: .email(EmailContent(from: "p@example.org", to: "gops@example.org", subject: "S", text: "T")),
                 attempts: attempts, expiresAt: expiresAt)
    }

    func testDueDeliveryIsClaimedAndTransmitted() throws {
        for state in [DeliveryState.pending, .deferred] {
            let t = try lifecycle.apply(.claim, to: delivery(state), now: t0)
            XCTAssertEqual(t, DeliveryTransition(state: .inflight, actions: [.transmit]))
        }
    }

    func testAcceptedDeliveryIsSentWithTheReply() throws {
        let t = try lifecycle.apply(.succeeded(reply: "250 queued as 7"), to: delivery(.inflight), now: t0)
        XCTAssertEqual(t, DeliveryTransition(state: .sent, actions: [.recordSent(reply: "250 queued as 7")]))
    }

    func testTransientFailureDefersWithinAMinuteOrSo() throws {
        let t = try lifecycle.apply(.failed(tempfail), to: delivery(.inflight), now: t0, unit: 0.5, firstAttemptAt: t0)
        XCTAssertEqual(t, DeliveryTransition(state: .deferred, actions: [.recordDeferred(tempfail, until: t0.addingTimeInterval(60))]))
    }

    func testPermanentFailureIsADeadLetterAtOnce() throws {
        let t = try lifecycle.apply(.failed(permfail), to: delivery(.inflight), now: t0)
        XCTAssertEqual(t.state, .failed)
        XCTAssertEqual(t.actions, [.recordFailed(permfail)])
    }

    func testBackoffGrowsAndIsCappedAtTheMaximum() throws {
        var delays: [TimeInterval] = []
        for attempts in 1...10 {
            let t = try lifecycle.apply(.failed(tempfail), to: delivery(.inflight, attempts: attempts), now: t0, unit: 0.5,
                                        firstAttemptAt: t0)
            guard case .recordDeferred(_, let until)? = t.actions.first else { return XCTFail("\(t)") }
            delays.append(until.timeIntervalSince(t0))
        }
        XCTAssertEqual(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600])
    }

    func testTransientFailurePastTheLifetimeFails() throws {
        let started = t0.addingTimeInterval(-5 * 86400)
        let t = try lifecycle.apply(.failed(tempfail), to: delivery(.inflight, attempts: 40), now: t0, firstAttemptAt: started)
        XCTAssertEqual(t.state, .failed)
        guard case .recordFailed(let failure)? = t.actions.first else { return XCTFail("\(t)") }
        XCTAssertTrue(failure.message.contains("gave up after 40 attempts"), failure.message)
        XCTAssertEqual(failure.code, "smtp.451")
    }

    func testRetryAfterIsHonouredButBounded() throws {
        var busy = tempfail
        busy.retryAfter = 600
        let t = try lifecycle.apply(.failed(busy), to: delivery(.inflight), now: t0, unit: 0.5, firstAttemptAt: t0)
        XCTAssertEqual(t.actions, [.recordDeferred(busy, until: t0.addingTimeInterval(600))])
        busy.retryAfter = 30 * 86400
        let capped = try lifecycle.apply(.failed(busy), to: delivery(.inflight), now: t0, unit: 0.5, firstAttemptAt: t0)
        XCTAssertEqual(capped.actions, [.recordDeferred(busy, until: t0.addingTimeInterval(6 * 3600))])
    }

    func testOneOutageDoesNotRetryEveryDeliveryInTheSameSecond() throws {
        var seconds = Set<Int>()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let t = try lifecycle.apply(.failed(tempfail), to: delivery(.inflight), now: t0,
                                        unit: Double.random(in: 0..<1, using: &generator), firstAttemptAt: t0)
            guard case .recordDeferred(_, let until)? = t.actions.first else { return XCTFail("\(t)") }
            XCTAssertGreaterThanOrEqual(until.timeIntervalSince(t0), 45)
            XCTAssertLessThanOrEqual(until.timeIntervalSince(t0), 75)
            seconds.insert(Int(until.timeIntervalSince(t0)))
        }
        XCTAssertGreaterThan(seconds.count, 15, "200 retries fell in only \(seconds.count) distinct seconds")
    }

    func testADeliveryWhoseMomentHasPassedExpiresInsteadOfBeingSent() throws {
        let late = try lifecycle.apply(.claim, to: delivery(.pending, expiresAt: t0), now: t0.addingTimeInterval(1))
        XCTAssertEqual(late.state, .failed)
        guard case .recordFailed(let failure)? = late.actions.first else { return XCTFail("\(late)") }
        XCTAssertEqual(failure.code, DeliveryLifecycle.expiredCode)
        XCTAssertEqual(failure.kind, .permanent)
        XCTAssertFalse(late.actions.contains(.transmit))

        let onTime = try lifecycle.apply(.claim, to: delivery(.pending, expiresAt: t0.addingTimeInterval(60)), now: t0)
        XCTAssertEqual(onTime.state, .inflight)
    }

    func testARetryThatWouldComeAfterTheExpiryFailsNow() throws {
        let d = delivery(.inflight, expiresAt: t0.addingTimeInterval(30))
        let t = try lifecycle.apply(.failed(tempfail), to: d, now: t0, unit: 0.5, firstAttemptAt: t0)
        XCTAssertEqual(t.state, .failed)
        guard case .recordFailed(let failure)? = t.actions.first else { return XCTFail("\(t)") }
        XCTAssertEqual(failure.code, DeliveryLifecycle.expiredCode)
        XCTAssertTrue(failure.message.contains("smtp.451"), failure.message)
    }

    func testOperatorHoldReleaseRequeue() throws {
        let held = try lifecycle.apply(.hold(reason: "sprawdzić adres"), to: delivery(.deferred), now: t0)
        XCTAssertEqual(held, DeliveryTransition(state: .held, actions: [.recordHeld(reason: "sprawdzić adres")]))
        let later = t0.addingTimeInterval(3600)
        let released = try lifecycle.apply(.release, to: delivery(.held), now: later)
        XCTAssertEqual(released, DeliveryTransition(state: .pending, actions: [.recordPending(notBefore: later)]))
        let requeued = try lifecycle.apply(.requeue, to: delivery(.failed), now: later)
        XCTAssertEqual(requeued.state, .pending)
        let recovered = try lifecycle.apply(.recover, to: delivery(.inflight), now: later)
        XCTAssertEqual(recovered, DeliveryTransition(state: .pending, actions: [.recordPending(notBefore: t0)]))
    }

    func testTransitionsTheStateDoesNotAllowAreRefused() {
        let refused: [(DeliveryState, DeliveryEvent)] = [
            (.sent, .claim), (.sent, .requeue), (.sent, .hold(reason: "x")), (.held, .claim), (.failed, .claim),
            (.pending, .succeeded(reply: "250")), (.pending, .release), (.inflight, .hold(reason: "x")),
            (.inflight, .claim), (.deferred, .requeue), (.sent, .expire), (.pending, .recover),
        ]
        for (state, event) in refused {
            XCTAssertThrowsError(try lifecycle.apply(event, to: delivery(state), now: t0), "\(state) + \(event)") { error in
                XCTAssertEqual(error as? DeliveryTransitionRefused, DeliveryTransitionRefused(state: state, event: event.kind))
            }
        }
    }

    func testEveryEventIsAllowedFromSomeStateAndSentIsFinal() {
        for kind in DeliveryEvent.Kind.allCases {
            XCTAssertFalse(DeliveryLifecycle.sources(of: kind).isEmpty, "\(kind)")
            XCTAssertFalse(DeliveryLifecycle.sources(of: kind).contains(.sent), "\(kind) leaves sent")
        }
    }
}
