import Foundation
import HeroldCore
import XCTest

final class LaneHealthTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    let retry = RetryPolicy(firstDelay: 60, maxDelay: 3600, lifetime: 5 * 86400, jitter: 0)
    let refused = DeliveryFailure(kind: .transient, code: "curl.7", message: "Couldn't connect to server")

    func testADownDestinationBacksOffAsAWholeThenProbesOneAtATime() {
        var lane = LaneHealth()
        XCTAssertEqual(lane.allowance(limit: 8, now: t0), 8)
        XCTAssertTrue(lane.failed(refused, retry: retry, now: t0, unit: 0.5))
        XCTAssertEqual(lane.state, .backingOff(until: t0.addingTimeInterval(60)))
        XCTAssertEqual(lane.allowance(limit: 8, now: t0.addingTimeInterval(59)), 0, "nothing during the gap")
        XCTAssertEqual(lane.allowance(limit: 8, now: t0.addingTimeInterval(60)), 1, "one probe after it")
        lane.transferStarted(now: t0.addingTimeInterval(60))
        XCTAssertEqual(lane.state, .probing)
        XCTAssertEqual(lane.allowance(limit: 8, now: t0.addingTimeInterval(61)), 1, "still only the probe")
        lane.failed(refused, retry: retry, now: t0.addingTimeInterval(61), unit: 0.5)
        XCTAssertEqual(lane.state, .backingOff(until: t0.addingTimeInterval(61 + 120)), "the gap doubles")
        lane.transferStarted(now: t0.addingTimeInterval(181))
        lane.succeeded()
        XCTAssertEqual(lane.state, .open)
        XCTAssertEqual(lane.allowance(limit: 8, now: t0.addingTimeInterval(182)), 8, "a good probe opens the lane fully")
    }

    func testTheGapStopsGrowingAtRetryMax() {
        var lane = LaneHealth()
        var now = t0
        var gaps: [TimeInterval] = []
        for _ in 0..<20 {
            lane.failed(refused, retry: retry, now: now, unit: 0.5)
            guard let reopens = lane.reopensAt else { return XCTFail("not backing off: \(lane.state)") }
            gaps.append(reopens.timeIntervalSince(now))
            now = reopens
            lane.transferStarted(now: now)
        }
        XCTAssertEqual(gaps.prefix(4), [60, 120, 240, 480])
        XCTAssertEqual(gaps.last, 3600, "a dead relay sees one probe an hour at most")
        XCTAssertEqual(lane.failures, 20)
    }

    func testFailuresOfTransfersStartedBeforeTheLaneClosedDoNotStretchTheGap() {
        var lane = LaneHealth()
        lane.failed(refused, retry: retry, now: t0, unit: 0.5)
        // Fifteen more transfers that were already out when the relay went down.
        for _ in 0..<15 { XCTAssertFalse(lane.failed(refused, retry: retry, now: t0, unit: 0.5)) }
        XCTAssertEqual(lane.failures, 1)
        XCTAssertEqual(lane.reopensAt, t0.addingTimeInterval(60))
    }

    func testLoginRefusedOrUntrustedCertificatePausesUntilResumed() {
        for code in ["smtp.auth", "tls.certificate", "tls.handshake", "tls.starttls"] {
            var lane = LaneHealth()
            let failure = DeliveryFailure(kind: .transient, code: code, message: "refused")
            lane.failed(failure, retry: retry, now: t0, unit: 0.5)
            XCTAssertTrue(lane.isPaused, code)
            XCTAssertEqual(lane.allowance(limit: 4, now: t0.addingTimeInterval(86400 * 30)), 0, "\(code): waits for an operator")
            lane.succeeded()
            XCTAssertTrue(lane.isPaused, "\(code): a transfer already out does not unpause it")
            lane.resume()
            XCTAssertEqual(lane.allowance(limit: 4, now: t0), 4, code)
        }
    }

    func testARecipientRefusedSaysNothingAboutTheDestination() {
        var lane = LaneHealth()
        for code in ["smtp.550", "smtp.452", "http.404", "http.410", "message.address"] {
            XCTAssertFalse(lane.failed(DeliveryFailure(kind: .permanent, code: code, message: "no"), retry: retry, now: t0, unit: 0.5))
            XCTAssertEqual(lane.state, .open, code)
        }
        for code in ["http.500", "http.503", "http.429", "smtp.421", "curl.28", "curl.52"] {
            XCTAssertEqual(DestinationSignal(DeliveryFailure(kind: .transient, code: code, message: "")), .down, code)
        }
    }

    func testDeliveriesFindTheirLane() {
        let key = EventKey(source: "/cms", id: "1")
        let email = Delivery(id: DeliveryID(rawValue: "a"), event: key, rule: "r", action: 0, channel: .email,
                             recipient: "x@example.org", notBefore: t0, state: .pending, payload: nil)
        let hook = Delivery(id: DeliveryID(rawValue: "b"), event: key, rule: "r", action: 1, channel: .webhook,
                            recipient: "partnerzy-hub", notBefore: t0, state: .pending, payload: nil)
        XCTAssertEqual(email.destination, .smtp)
        XCTAssertEqual(hook.destination.rawValue, "webhook:partnerzy-hub")
    }
}
