import Foundation
import HeroldConfig
import XCTest

/// `metrics:`: off by default, a loopback listener and/or a node-exporter textfile, and
/// every mistake reported at its line.
final class MetricsConfigTests: XCTestCase {
    private func load(_ yaml: String) throws(ConfigErrors) -> HeroldConfig {
        try ConfigLoader.load(text: yaml, file: "/srv/herold/herold.yaml", environment: [:])
    }

    /// The single issue of a config that must be refused.
    private func refusal(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigIssue? {
        do {
            _ = try load(yaml)
            XCTFail("accepted:\n\(yaml)", file: file, line: line)
            return nil
        } catch {
            XCTAssertEqual(error.issues.count, 1, "\(error.issues)", file: file, line: line)
            return error.issues.first
        }
    }

    func testOffByDefault() throws {
        let config = try load("spool: ./spool\n")
        XCTAssertFalse(config.metrics.isEnabled)
        XCTAssertNil(config.metrics.listen)
        XCTAssertNil(config.metrics.textfile)
    }

    func testListenTextfileAndInterval() throws {
        let config = try load("""
            metrics:
              listen: 127.0.0.1:9464
              textfile: /var/lib/node_exporter/textfile/herold.prom
              interval: 30s
            """)
        XCTAssertEqual(config.metrics.listen, ListenAddress(host: "127.0.0.1", port: 9464))
        XCTAssertEqual(config.metrics.textfile?.path, "/var/lib/node_exporter/textfile/herold.prom")
        XCTAssertEqual(config.metrics.interval, 30)
        XCTAssertTrue(config.metrics.isEnabled)
        XCTAssertFalse(config.metrics.allowRemote)
    }

    func testDefaultsAndRelativeTextfileAndIPv6Loopback() throws {
        let config = try load("""
            metrics: { listen: "[::1]:9464", textfile: metrics/herold.prom }
            """)
        XCTAssertEqual(config.metrics.listen?.host, "::1")
        XCTAssertEqual(config.metrics.listen?.description, "[::1]:9464")
        XCTAssertEqual(config.metrics.textfile?.path, "/srv/herold/metrics/herold.prom")
        XCTAssertEqual(config.metrics.interval, 10)
        let long = try load("metrics: { listen: \"[0:0:0:0:0:0:0:1]:9464\" }")
        XCTAssertEqual(long.metrics.listen?.isLoopback, true)
    }

    func testANonLoopbackAddressIsRefusedUnlessAllowed() throws {
        let issue = refusal("""
            spool: ./spool
            metrics:
              listen: 0.0.0.0:9464
            """)
        XCTAssertEqual(issue?.line, 3)
        XCTAssertTrue(issue?.message.contains("0.0.0.0:9464 is not a loopback address") == true, "\(String(describing: issue))")
        XCTAssertTrue(issue?.fix?.contains("allow_remote: true") == true)
        XCTAssertNotNil(refusal("metrics: { listen: \"[::]:9464\" }"))
        XCTAssertNotNil(refusal("metrics: { listen: 10.0.0.5:9464 }"))

        let allowed = try load("""
            metrics:
              listen: 10.0.0.5:9464
              allow_remote: true
            """)
        XCTAssertEqual(allowed.metrics.listen, ListenAddress(host: "10.0.0.5", port: 9464))
        XCTAssertTrue(allowed.metrics.allowRemote)
    }

    func testBadAddressesAreReportedAtTheirLine() {
        let cases: [(String, String)] = [
            ("localhost:9464", "\"localhost\" is not a literal IP address"),
            ("9464", "is not HOST:PORT"),
            ("127.0.0.1:0", "port \"0\" is not a number from 1 to 65535"),
            ("127.0.0.1:70000", "port \"70000\""),
            ("\"127.0.0.1:\"", "port \"\""),
            ("127.0.0.256:9464", "\"127.0.0.256\" is not a literal IP address"),
            ("\"[::1]9464\"", "is not HOST:PORT"),
            ("\"[fe80::zz]:9464\"", "\"fe80::zz\" is not a literal IP address"),
        ]
        for (value, message) in cases {
            let issue = refusal("""
                spool: ./spool
                metrics:
                  interval: 5s
                  listen: \(value)
                """)
            XCTAssertEqual(issue?.line, 4, value)
            XCTAssertTrue(issue?.message.hasPrefix("metrics.listen: ") == true, "\(String(describing: issue))")
            XCTAssertTrue(issue?.message.contains(message) == true, "\(value): \(String(describing: issue?.message))")
        }
    }

    func testTextfileMustBeAPromFile() {
        let issue = refusal("metrics:\n  textfile: /var/lib/node_exporter/textfile/herold.txt\n")
        XCTAssertEqual(issue?.line, 2)
        XCTAssertTrue(issue?.message.contains("does not end in .prom") == true, "\(String(describing: issue))")
    }

    func testIntervalIsBounded() {
        XCTAssertTrue(refusal("metrics: { listen: 127.0.0.1:9464, interval: 0s }")?.message.contains("metrics.interval") == true)
        XCTAssertTrue(refusal("metrics: { listen: 127.0.0.1:9464, interval: 1h }")?.message.contains("out of range") == true)
    }

    func testAnEmptySectionAndUnknownKeysAreRefused() {
        let empty = refusal("spool: ./spool\nmetrics:\n  interval: 5s\n")
        XCTAssertEqual(empty?.line, 2)
        XCTAssertTrue(empty?.message.contains("neither listen nor textfile") == true, "\(String(describing: empty))")
        let typo = refusal("metrics:\n  listen: 127.0.0.1:9464\n  lisen_remote: true\n")
        XCTAssertEqual(typo?.line, 3)
        XCTAssertTrue(typo?.message.contains("unknown key \"lisen_remote\"") == true, "\(String(describing: typo))")
        XCTAssertTrue(refusal("metrics: 127.0.0.1:9464\n")?.message.contains("expected a mapping") == true)
    }
}
