import Foundation
import XCTest

/// The metrics as an operator's Prometheus sees them: scraped from the running binary
/// while it delivers to real SMTP and HTTP servers, checked by Debian's `promtool`, and
/// scraped by Debian's real `prometheus`.
final class MetricsEndToEndTests: SiteTestCase {
    private func metricsYAML(port: Int) -> String {
        """
        metrics:
          listen: 127.0.0.1:\(port)
          textfile: ./herold.prom
          interval: 1s
        """
    }

    /// Scrapes until `condition` holds on the text; returns the last text scraped.
    private func scrape(_ probe: HTTPProbe, until condition: (String) -> Bool, timeout: TimeInterval = 20) -> String {
        var last = ""
        _ = eventually(timeout: timeout) {
            guard let response = probe.get("/metrics"), response.status == 200 else { return false }
            last = response.body
            return condition(last)
        }
        return last
    }

    func testMetricsFollowDeliveriesAndPassPromtool() throws {
        let port = try HTTPProbe.freePort()
        let (site, smtp, http) = try makeSite("metrics", httpArguments: ["--status", "503"], extraYAML: metricsYAML(port: port))
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        let probe = HTTPProbe(port: port)

        let before = scrape(probe, until: { sampleValue($0, #"herold_lane_state{destination="smtp",state="open"}"#) == 1 })
        XCTAssertEqual(sampleValue(before, "herold_events_accepted_total"), 0, "before:\n\(before)\n\(daemon.output)")
        XCTAssertEqual(sampleValue(before, #"herold_deliveries{state="sent",channel="email"}"#), 0)
        XCTAssertEqual(sampleValue(before, #"herold_lane_state{destination="webhook:partnerzy-hub",state="open"}"#), 1)
        let head = try XCTUnwrap(probe.get("/metrics")?.head)
        XCTAssertTrue(head.contains("Content-Type: text/plain; version=0.0.4"), head)

        // Two events in one file, one of them again in another file, and a file that is no event.
        try site.drop("[" + TestSite.laureatesEvent(id: "m-1") + "," + TestSite.laureatesEvent(id: "m-2") + "]", as: "a.json")
        XCTAssertTrue(eventually { smtp.records().count == 4 }, "four emails: \(smtp.records().count)\n\(daemon.output)")
        try site.drop(TestSite.laureatesEvent(id: "m-1"), as: "b.json")
        try site.drop("to nie jest zdarzenie", as: "c.json")

        let after = scrape(probe, until: { text in
            sampleValue(text, "herold_events_rejected_total") == 1
                && sampleValue(text, "herold_events_duplicate_total") == 1
                && sampleValue(text, #"herold_deliveries{state="deferred",channel="webhook"}"#) == 2
        })
        XCTAssertEqual(sampleValue(after, "herold_events_accepted_total"), 2, "after:\n\(after)\n\(daemon.output)")
        XCTAssertEqual(sampleValue(after, "herold_events_duplicate_total"), 1)
        XCTAssertEqual(sampleValue(after, "herold_events_rejected_total"), 1)
        XCTAssertEqual(sampleValue(after, #"herold_delivery_attempts_total{destination="smtp",outcome="sent",code="none"}"#), 4)
        XCTAssertEqual(sampleValue(after, #"herold_delivery_attempts_total{destination="webhook:partnerzy-hub",outcome="deferred",code="http.5xx"}"#), 2,
                       "the endpoint's 503s, as a class")
        XCTAssertEqual(sampleValue(after, #"herold_deliveries{state="sent",channel="email"}"#), 4)
        XCTAssertEqual(sampleValue(after, #"herold_deliveries{state="deferred",channel="webhook"}"#), 2)
        XCTAssertEqual(sampleValue(after, #"herold_lane_state{destination="webhook:partnerzy-hub",state="backing_off"}"#), 1)
        XCTAssertEqual(sampleValue(after, #"herold_lane_state{destination="webhook:partnerzy-hub",state="open"}"#), 0)
        XCTAssertEqual(sampleValue(after, #"herold_lane_state{destination="smtp",state="open"}"#), 1)
        XCTAssertEqual(sampleValue(after, #"herold_spool_to_delivery_seconds_count{channel="email"}"#), 4)
        XCTAssertEqual(sampleValue(after, #"herold_spool_to_delivery_seconds_count{channel="webhook"}"#), 0)
        XCTAssertEqual(sampleValue(after, #"herold_spool_to_delivery_seconds_bucket{channel="email",le="60.0"}"#), 4,
                       "sent within a minute of arriving")
        XCTAssertGreaterThanOrEqual(sampleValue(after, #"herold_journal_commit_seconds_count{sync="full"}"#) ?? 0, 2,
                                    "each accepted file is a synced commit")
        XCTAssertGreaterThanOrEqual(sampleValue(after, #"herold_journal_commit_seconds_count{sync="normal"}"#) ?? 0, 2)
        XCTAssertEqual(sampleValue(after, "herold_oldest_due_delivery_age_seconds"), 0, "the deferred webhooks are not due yet")
        withExtendedLifetime(http) {}

        let check = try promtoolCheckMetrics(after)
        XCTAssertEqual(check.status, 0, "promtool check metrics:\n\(check.output)\n\(after)")

        // The textfile for node-exporter holds the same metrics and passes too.
        let textfile = site.root.appendingPathComponent("herold.prom").path
        var written = ""
        XCTAssertTrue(eventually {
            written = (try? String(contentsOfFile: textfile, encoding: .utf8)) ?? ""
            return sampleValue(written, "herold_events_rejected_total") == 1
        }, "textfile:\n\(written)")
        XCTAssertEqual(try promtoolCheckMetrics(written).status, 0)
    }

    func testAPausedRelayShowsAsPausedWithItsMailWaiting() throws {
        let port = try HTTPProbe.freePort()
        let (site, smtp, http) = try makeSite("metrics-paused", smtpArguments: ["--auth", "herold:dobre-haslo"],
                                              extraYAML: metricsYAML(port: port))
        defer { withExtendedLifetime((smtp, http)) {} }
        try "zle-haslo\n".write(to: site.root.appendingPathComponent("secrets/smtp-password"), atomically: true, encoding: .utf8)
        let config = try String(contentsOfFile: site.configPath, encoding: .utf8)
            .replacingOccurrences(of: "  tls: none\n", with: "  tls: none\n  username: herold\n  password_file: secrets/smtp-password\n")
        try config.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        try site.drop(TestSite.laureatesEvent(id: "p-1"), as: "p.json")

        let probe = HTTPProbe(port: port)
        let text = scrape(probe, until: { text in
            sampleValue(text, #"herold_lane_state{destination="smtp",state="paused"}"#) == 1
                && (sampleValue(text, "herold_oldest_due_delivery_age_seconds") ?? 0) >= 2
        })
        XCTAssertEqual(sampleValue(text, #"herold_lane_state{destination="smtp",state="paused"}"#), 1, "\(text)\n\(daemon.output)")
        XCTAssertEqual(sampleValue(text, #"herold_lane_state{destination="smtp",state="open"}"#), 0)
        XCTAssertGreaterThanOrEqual(sampleValue(text, "herold_oldest_due_delivery_age_seconds") ?? 0, 2,
                                    "the mail waits behind the paused relay, and its wait shows")
        XCTAssertEqual(sampleValue(text, #"herold_deliveries{state="pending",channel="email"}"#), 2)
        XCTAssertEqual(sampleValue(text, #"herold_delivery_attempts_total{destination="webhook:partnerzy-hub",outcome="sent",code="none"}"#), 1)
    }

    func testARealPrometheusScrapesHerold() throws {
        let port = try HTTPProbe.freePort()
        let (site, smtp, http) = try makeSite("metrics-prometheus", extraYAML: metricsYAML(port: port))
        defer { withExtendedLifetime(http) {} }
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }

        let webPort = try HTTPProbe.freePort()
        let storage = site.root.appendingPathComponent("prometheus-data")
        let configFile = site.root.appendingPathComponent("prometheus.yml")
        try """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: herold
                static_configs:
                  - targets: ["127.0.0.1:\(port)"]
            """.write(to: configFile, atomically: true, encoding: .utf8)
        let prometheus = try BackgroundProcess(
            executable: URL(fileURLWithPath: "/usr/bin/prometheus"),
            arguments: ["--config.file=\(configFile.path)", "--storage.tsdb.path=\(storage.path)",
                        "--web.listen-address=127.0.0.1:\(webPort)", "--log.level=warn"])
        cleanup.append { prometheus.stop() }
        let api = HTTPProbe(port: webPort)
        guard eventually(timeout: 60, { api.get("/-/ready")?.status == 200 }) else {
            return XCTFail("prometheus did not start:\n\(prometheus.output)")
        }

        /// The value of a one-series instant query, as Prometheus' API gives it.
        func query(_ expression: String) -> String? {
            let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
            guard let response = api.get("/api/v1/query?query=\(encoded)"), response.status == 200,
                  let json = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any],
                  let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
                  result.count == 1, let value = result[0]["value"] as? [Any], value.count == 2 else { return nil }
            return value[1] as? String
        }

        XCTAssertTrue(eventually(timeout: 30) { query("herold_events_accepted_total") == "0" },
                      "prometheus scraped herold before any event:\n\(prometheus.output)\n\(daemon.output)")
        try site.drop("[" + TestSite.laureatesEvent(id: "s-1") + "," + TestSite.laureatesEvent(id: "s-2") + "]", as: "s.json")
        XCTAssertTrue(eventually { smtp.records().count == 4 }, "\(daemon.output)")
        XCTAssertTrue(eventually(timeout: 30) { query("herold_events_accepted_total") == "2" },
                      "prometheus sees the two events: \(String(describing: query("herold_events_accepted_total")))")
        XCTAssertEqual(query(#"up{job="herold"}"#), "1")
        XCTAssertTrue(eventually(timeout: 30) {
            query(#"sum(herold_delivery_attempts_total{outcome="sent"})"#) == "6"
        }, "four emails and two webhooks sent: \(String(describing: query(#"sum(herold_delivery_attempts_total{outcome="sent"})"#)))")
    }
}
