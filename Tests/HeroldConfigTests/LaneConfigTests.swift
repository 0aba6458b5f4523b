import Foundation
import HeroldConfig
import HeroldCore
import XCTest

/// The keys of delivery engine 2: lane widths, the relay's idle limit, a rule's `not_after`.
final class LaneConfigTests: XCTestCase {
    private func load(_ yaml: String) throws(ConfigErrors) -> HeroldConfig {
        try ConfigLoader.load(text: yaml, file: "/srv/herold/herold.yaml", environment: [:])
    }

    private let smtp = """
        smtp:
          outbox: ./outbox
          from: "Powiadomienia <powiadomienia@example.org>"

        """

    private let hook = """
        webhooks:
          hub:
            url: https://hooks.example.org/herold
            secret_file: secrets/hub.whsec

        """

    func testDefaultsAndSetWidthsIdleLimitAndNotAfter() throws {
        let defaults = try load(smtp + hook)
        XCTAssertEqual(defaults.smtp?.maxConnections, 1)
        XCTAssertEqual(defaults.smtp?.idleTimeout, 50)
        XCTAssertEqual(defaults.webhooks["hub"]?.maxConnections, 8)

        let set = try load("""
            smtp:
              outbox: ./outbox
              from: "Powiadomienia <powiadomienia@example.org>"
              max_connections: 4
              idle_timeout: 20s
            webhooks:
              hub:
                url: https://hooks.example.org/herold
                secret_file: secrets/hub.whsec
                max_connections: 32
            rules:
              - name: zyczenia
                match: { type: day.social-worker }
                not_after: 2d
                send:
                  - webhook: { endpoint: hub }
            """)
        XCTAssertEqual(set.smtp?.maxConnections, 4)
        XCTAssertEqual(set.smtp?.idleTimeout, 20)
        XCTAssertEqual(set.webhooks["hub"]?.maxConnections, 32)
        XCTAssertEqual(set.rules.first?.notAfter, 2 * 86400)
    }

    func testBadValuesAreRefusedWithTheirLine() {
        do {
            _ = try load(smtp + """
                webhooks:
                  hub:
                    url: https://hooks.example.org/herold
                    secret_file: secrets/hub.whsec
                    max_connections: 0
                rules:
                  - name: zyczenia
                    match: { type: day.social-worker }
                    not_after: jutro
                    send:
                      - webhook: { endpoint: hub }
                """)
            XCTFail("expected the config to be refused")
        } catch {
            let text = error.issues.map(\.description).joined(separator: "\n")
            XCTAssertTrue(error.issues.contains { $0.message.contains("webhooks.hub.max_connections") && $0.line == 8 }, text)
            XCTAssertTrue(error.issues.contains { $0.message.contains("rules[0].not_after") && $0.line == 12 }, text)
        }
    }
}
