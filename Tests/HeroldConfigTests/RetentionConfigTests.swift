import Foundation
import HeroldConfig
import HeroldCore
import XCTest

final class RetentionConfigTests: XCTestCase {
    private let base = """
        smtp:
          outbox: ./outbox
          from: "Powiadomienia <powiadomienia@example.org>"

        """

    private func load(_ yaml: String) throws(ConfigErrors) -> HeroldConfig {
        try ConfigLoader.load(text: base + yaml, file: "/srv/herold/herold.yaml", environment: [:])
    }

    private func issues(_ yaml: String) -> [String] {
        do {
            _ = try load(yaml)
            XCTFail("expected the config to be refused")
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    func testDefaultsAreThirtyDaysAYearAndTwoYearsWithFullLogs() throws {
        let config = try load("")
        XCTAssertEqual(config.retention, RetentionPolicy(content: 30 * 86400, records: 365 * 86400, duplicates: 730 * 86400))
        XCTAssertEqual(config.logRecipients, .full)
    }

    func testPeriodsAndLogModeAreRead() throws {
        let config = try load("""
            retention: { content: 14d, records: 180d, duplicates: 400d }
            log_recipients: hashed
            """)
        XCTAssertEqual(config.retention, RetentionPolicy(content: 14 * 86400, records: 180 * 86400, duplicates: 400 * 86400))
        XCTAssertEqual(config.logRecipients, .hashed)
    }

    func testWrongOrderUnknownKeysAndModesAreErrorsWithAFix() {
        let order = issues("retention: { content: 90d, records: 30d }")
        XCTAssertEqual(order.count, 1, "\(order)")
        XCTAssertTrue(order[0].contains("retention: records (30d) is shorter than content (90d)"), order[0])
        let window = issues("retention: { duplicates: 100d }")
        XCTAssertTrue(window.first?.contains("duplicates (100d) is shorter than records (365d)") ?? false, "\(window)")
        let unknown = issues("retention: { contents: 30d }")
        XCTAssertTrue(unknown.first?.contains("did you mean 'content'?") ?? false, "\(unknown)")
        let mode = issues("log_recipients: hidden")
        XCTAssertTrue(mode.first?.contains("write one of: full, masked, hashed") ?? false, "\(mode)")
    }
}
