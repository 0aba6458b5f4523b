import Foundation
import HeroldConfig
import HeroldCore
import XCTest

final class RetryConfigTests: XCTestCase {
    private let base = """
        smtp:
          outbox: ./outbox
          from: "Powiadomienia <powiadomienia@example.org>"

        """

    private func load(_ yaml: String) throws(ConfigErrors) -> HeroldConfig {
        try ConfigLoader.load(text: base + yaml, file: "/srv/herold/herold.yaml", environment: [:])
    }

    private func issues(_ yaml: String) -> [ConfigIssue] {
        do {
            _ = try load(yaml)
            XCTFail("expected the config to be refused")
            return []
        } catch {
            return error.issues
        }
    }

    func testDefaultsFollowPostfixAndStandardWebhooks() throws {
        let config = try load("")
        XCTAssertEqual(config.retry, RetryPolicy(firstDelay: 60, maxDelay: 3600, lifetime: 5 * 86400, jitter: 0.25))
        XCTAssertEqual(config.shutdownTimeout, 30)
    }

    func testRetryAndShutdownDurationsWithUnits() throws {
        let config = try load("""
            retry: { first: 30s, max: 2h, lifetime: 2d, jitter: 0.1 }
            shutdown_timeout: 1m
            """)
        XCTAssertEqual(config.retry.firstDelay, 30)
        XCTAssertEqual(config.retry.maxDelay, 7200)
        XCTAssertEqual(config.retry.lifetime, 2 * 86400)
        XCTAssertEqual(config.retry.jitter, 0.1)
        XCTAssertEqual(config.shutdownTimeout, 60)
        let partial = try load("retry:\n  first: 5m\nshutdown_timeout: 45\n")
        XCTAssertEqual(partial.retry.firstDelay, 300)
        XCTAssertEqual(partial.retry.maxDelay, 3600, "keys left out keep their defaults")
        XCTAssertEqual(partial.shutdownTimeout, 45, "a bare number is seconds")
    }

    func testBadDurationsAreReportedAtTheirLineWithAFix() {
        let found = issues("""
            retry:
              first: 5 minut
              max: 1w
              jitter: 2
              backof: 1s
            """).sorted { $0.line < $1.line }
        XCTAssertEqual(found.map(\.line), [5, 6, 7, 8], "\(found)")
        XCTAssertTrue(found[0].message.contains("retry.first: \"5 minut\" is not a duration"), found[0].message)
        XCTAssertEqual(found[0].fix, "write a whole number with a unit: s, m, h or d (e.g. 30s, 5m, 1h, 2d)")
        XCTAssertTrue(found[2].message.contains("retry.jitter"), found[2].message)
        XCTAssertTrue(found[3].fix?.contains("remove it") ?? false, "\(found[3])")
    }

    func testMaxShorterThanFirstIsRefused() {
        let found = issues("retry: { first: 2h, max: 1h }\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.message.contains("max (3600s) is shorter than first (7200s)") ?? false, "\(found)")
        XCTAssertEqual(found.first?.line, 4)
    }

    func testShutdownTimeoutOutOfRange() {
        let found = issues("shutdown_timeout: 2h\n")
        XCTAssertEqual(found.first?.message, "shutdown_timeout: 2h is out of range")
        XCTAssertEqual(found.first?.fix, "use a duration from 1s to 1h")
    }
}
