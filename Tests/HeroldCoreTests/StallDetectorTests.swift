import HeroldCore
import XCTest

final class StallDetectorTests: XCTestCase {
    let t0 = ContinuousClock.now

    func testSlowTransfersEndingOneByOneAreProgressHoweverLongTheQueue() {
        var detector = StallDetector(limit: .seconds(30), start: t0)
        // 16 emails behind one connection, each taking 25 s: 400 s in all.
        for n in 1...16 {
            let end = t0 + .seconds(25 * n)
            XCTAssertTrue(detector.isHealthy(at: end - .seconds(1)), "transfer \(n) is within its own timeouts")
            detector.progress(at: end)
        }
        XCTAssertTrue(detector.isHealthy(at: t0 + .seconds(400)))
    }

    func testNothingEndingPastTheLimitIsAStall() {
        var detector = StallDetector(limit: .seconds(30), start: t0)
        detector.progress(at: t0 + .seconds(10))
        XCTAssertTrue(detector.isHealthy(at: t0 + .seconds(40)))
        XCTAssertFalse(detector.isHealthy(at: t0 + .seconds(41)), "stuck past every timeout: let systemd restart herold")
    }

    func testProgressNeverMovesBackwards() {
        var detector = StallDetector(limit: .seconds(5), start: t0 + .seconds(10))
        detector.progress(at: t0)
        XCTAssertEqual(detector.lastProgress, t0 + .seconds(10))
    }
}
