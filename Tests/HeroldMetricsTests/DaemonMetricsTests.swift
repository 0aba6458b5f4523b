import Foundation
import HeroldCore
import XCTest
@testable import HeroldMetrics

/// The facade's exposition: the names, types, labels and values an operator's dashboards
/// and alerts are written against.
final class DaemonMetricsTests: XCTestCase {
    private let smtp = Destination.smtp
    private let hub = Destination.webhook("partnerzy-hub")

    func testEveryMetricHasItsNameTypeAndHelpBeforeAnythingHappens() {
        let shown = Exposition(DaemonMetrics())
        let expected: [(String, String)] = [
            ("herold_events_accepted_total", "counter"), ("herold_events_duplicate_total", "counter"),
            ("herold_events_rejected_total", "counter"), ("herold_deliveries", "gauge"),
            ("herold_oldest_due_delivery_age_seconds", "gauge"), ("herold_journal_commit_seconds", "histogram"),
            ("herold_spool_to_delivery_seconds", "histogram"),
        ]
        for (name, type) in expected {
            XCTAssertEqual(shown.type(of: name), type, name)
            XCTAssertTrue(shown.hasHelp(name), name)
        }
        // Zero, not absent, so a query or an alert has a value from the first scrape.
        XCTAssertEqual(shown.value("herold_events_accepted_total"), 0)
        XCTAssertEqual(shown.value(#"herold_deliveries{state="failed",channel="email"}"#), 0)
        XCTAssertEqual(shown.value(#"herold_spool_to_delivery_seconds_count{channel="webhook"}"#), 0)
        XCTAssertEqual(shown.value(#"herold_journal_commit_seconds_count{sync="full"}"#), 0)
        XCTAssertEqual(shown.samples(of: "herold_deliveries").count,
                       DeliveryState.allCases.count * Channel.allCases.count)
    }

    func testIngestCountsEventsDuplicatesAndRejectedFiles() {
        let metrics = DaemonMetrics()
        metrics.eventsAccepted(3, duplicates: 1)
        metrics.eventsAccepted(0, duplicates: 2)
        metrics.fileRejected()
        let shown = Exposition(metrics)
        XCTAssertEqual(shown.value("herold_events_accepted_total"), 3)
        XCTAssertEqual(shown.value("herold_events_duplicate_total"), 3)
        XCTAssertEqual(shown.value("herold_events_rejected_total"), 1)
    }

    func testAttemptsAreLabelledByDestinationOutcomeAndCodeClass() {
        let metrics = DaemonMetrics()
        metrics.attempt(destination: smtp, outcome: .sent)
        metrics.attempt(destination: smtp, outcome: .sent)
        metrics.attempt(destination: smtp, outcome: .deferred(code: "smtp.451"))
        metrics.attempt(destination: smtp, outcome: .deferred(code: "smtp.421"))
        metrics.attempt(destination: smtp, outcome: .failed(code: "smtp.550"))
        metrics.attempt(destination: hub, outcome: .deferred(code: "http.503"))
        metrics.attempt(destination: hub, outcome: .deferred(code: "curl.7"))
        metrics.attempt(destination: hub, outcome: .failed(code: "tls.certificate"))
        let shown = Exposition(metrics)
        XCTAssertEqual(shown.type(of: "herold_delivery_attempts_total"), "counter")
        XCTAssertEqual(shown.value(#"herold_delivery_attempts_total{destination="smtp",outcome="sent",code="none"}"#), 2)
        XCTAssertEqual(shown.value(#"herold_delivery_attempts_total{destination="smtp",outcome="deferred",code="smtp.4xx"}"#), 2)
        XCTAssertEqual(shown.value(#"herold_delivery_attempts_total{destination="smtp",outcome="failed",code="smtp.5xx"}"#), 1)
        XCTAssertEqual(shown.value(#"herold_delivery_attempts_total{destination="webhook:partnerzy-hub",outcome="deferred",code="http.5xx"}"#), 1)
        XCTAssertEqual(shown.value(#"herold_delivery_attempts_total{destination="webhook:partnerzy-hub",outcome="deferred",code="curl.7"}"#), 1)
        XCTAssertEqual(shown.value(#"herold_delivery_attempts_total{destination="webhook:partnerzy-hub",outcome="failed",code="tls.certificate"}"#), 1)
        XCTAssertEqual(shown.samples(of: "herold_delivery_attempts_total").count, 6)
    }

    func testCodesFoldToABoundedSetOfClasses() {
        let cases: [(String, String)] = [
            ("smtp.250", "smtp.2xx"), ("smtp.421", "smtp.4xx"), ("smtp.554", "smtp.5xx"), ("smtp.auth", "smtp.auth"),
            ("smtp.token", "smtp.token"), ("http.404", "http.4xx"), ("http.429", "http.4xx"), ("http.599", "http.5xx"),
            ("http.999", "http.other"), ("http.1234", "http.other"), ("curl.28", "curl.28"), ("curl.1234", "curl.other"),
            ("tls.handshake", "tls.handshake"), ("message.attachment", "message.attachment"),
            ("webhook.address-refused", "webhook.address-refused"), ("internal", "internal"),
            ("config.endpoint", "config.endpoint"), ("smtp.Ωmega", "smtp.other"), ("ldap.49", "other"), ("", "other"),
            ("smtp." + String(repeating: "a", count: 40), "smtp.other"),
        ]
        for (code, folded) in cases {
            XCTAssertEqual(AttemptOutcome.codeClass(code), folded, code)
        }
    }

    func testRecordedOutcomesCountAttemptsAndTimeSentOnes() {
        let metrics = DaemonMetrics()
        let arrived = Date(timeIntervalSince1970: 1_795_000_000)
        let mail = delivery(.email, to: "rops@example.org")
        let hook = delivery(.webhook, to: "partnerzy-hub")
        metrics.recorded(.recordSent(reply: "250 ok"), of: mail, arrivedAt: arrived, at: arrived.addingTimeInterval(0.4))
        metrics.recorded(.recordSent(reply: "HTTP 204"), of: hook, arrivedAt: arrived, at: arrived.addingTimeInterval(7200))
        metrics.recorded(.recordSent(reply: "250 ok"), of: mail, arrivedAt: nil, at: arrived)  // a reminder: not timed
        metrics.recorded(.recordDeferred(DeliveryFailure(kind: .transient, code: "smtp.451", message: "later"),
                                         until: arrived), of: mail, arrivedAt: arrived, at: arrived)
        metrics.recorded(.recordInterrupted(reason: "paused"), of: hook, arrivedAt: arrived, at: arrived)
        let shown = Exposition(metrics)
        XCTAssertEqual(shown.value(#"herold_delivery_attempts_total{destination="smtp",outcome="sent",code="none"}"#), 2)
        XCTAssertEqual(shown.value(#"herold_delivery_attempts_total{destination="smtp",outcome="deferred",code="smtp.4xx"}"#), 1)
        XCTAssertEqual(shown.value(#"herold_delivery_attempts_total{destination="webhook:partnerzy-hub",outcome="sent",code="none"}"#), 1)
        // The paused lane's interrupted transfer is not an attempt.
        XCTAssertEqual(shown.samples(of: "herold_delivery_attempts_total").count, 3)
        XCTAssertEqual(shown.value(#"herold_spool_to_delivery_seconds_count{channel="email"}"#), 1)
        XCTAssertEqual(shown.value(#"herold_spool_to_delivery_seconds_bucket{channel="email",le="0.5"}"#), 1)
        XCTAssertEqual(shown.value(#"herold_spool_to_delivery_seconds_bucket{channel="email",le="0.25"}"#), 0)
        XCTAssertEqual(shown.value(#"herold_spool_to_delivery_seconds_bucket{channel="webhook",le="3600.0"}"#), 0)
        XCTAssertEqual(shown.value(#"herold_spool_to_delivery_seconds_bucket{channel="webhook",le="14400.0"}"#), 1)
        XCTAssertEqual(shown.value(#"herold_spool_to_delivery_seconds_sum{channel="webhook"}"#), 7200)
    }

    func testGaugesShowTheLatestJournalReading() {
        let metrics = DaemonMetrics()
        metrics.setDeliveries([(.sent, .email, 40), (.deferred, .webhook, 3), (.sent, .email, 2)])
        metrics.setOldestDueAge(seconds: 95.5)
        var shown = Exposition(metrics)
        XCTAssertEqual(shown.value(#"herold_deliveries{state="sent",channel="email"}"#), 42)
        XCTAssertEqual(shown.value(#"herold_deliveries{state="deferred",channel="webhook"}"#), 3)
        XCTAssertEqual(shown.value("herold_oldest_due_delivery_age_seconds"), 95.5)

        metrics.setDeliveries([(.sent, .email, 45)])
        metrics.setOldestDueAge(seconds: 0)
        shown = Exposition(metrics)
        XCTAssertEqual(shown.value(#"herold_deliveries{state="sent",channel="email"}"#), 45)
        XCTAssertEqual(shown.value(#"herold_deliveries{state="deferred",channel="webhook"}"#), 0, "a state gone from the journal reads 0")
        XCTAssertEqual(shown.value("herold_oldest_due_delivery_age_seconds"), 0)
    }

    func testEachLaneShowsExactlyOneStateAndRemovedLanesDisappear() {
        let metrics = DaemonMetrics()
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let down = LaneHealth(state: .backingOff(until: now.addingTimeInterval(60)), failures: 1)
        metrics.setLanes([smtp: LaneStateLabel(down, now: now), hub: .open])
        var shown = Exposition(metrics)
        XCTAssertEqual(shown.type(of: "herold_lane_state"), "gauge")
        XCTAssertEqual(shown.value(#"herold_lane_state{destination="smtp",state="backing_off"}"#), 1)
        for state in ["open", "probing", "paused"] {
            XCTAssertEqual(shown.value(#"herold_lane_state{destination="smtp",state="\#(state)"}"#), 0, state)
        }
        XCTAssertEqual(shown.value(#"herold_lane_state{destination="webhook:partnerzy-hub",state="open"}"#), 1)
        // The backoff's time has passed: the next transfer is the probe.
        XCTAssertEqual(LaneStateLabel(down, now: now.addingTimeInterval(61)), .probing)
        XCTAssertEqual(LaneStateLabel(LaneHealth(state: .paused(reason: "smtp.auth")), now: now), .paused)

        metrics.setLanes([smtp: .paused])
        shown = Exposition(metrics)
        XCTAssertEqual(shown.value(#"herold_lane_state{destination="smtp",state="paused"}"#), 1)
        XCTAssertEqual(shown.value(#"herold_lane_state{destination="smtp",state="backing_off"}"#), 0)
        XCTAssertEqual(shown.samples(of: "herold_lane_state").count, 4, "the endpoint removed from the config is gone")
    }

    func testJournalCommitsAreTimedBySyncMode() {
        let metrics = DaemonMetrics()
        metrics.journalCommitted(seconds: 0.003, synced: true)
        metrics.journalCommitted(seconds: 0.0002, synced: false)
        metrics.journalCommitted(seconds: 0.0003, synced: false)
        let shown = Exposition(metrics)
        XCTAssertEqual(shown.value(#"herold_journal_commit_seconds_count{sync="full"}"#), 1)
        XCTAssertEqual(shown.value(#"herold_journal_commit_seconds_bucket{sync="full",le="0.0025"}"#), 0)
        XCTAssertEqual(shown.value(#"herold_journal_commit_seconds_bucket{sync="full",le="0.005"}"#), 1)
        XCTAssertEqual(shown.value(#"herold_journal_commit_seconds_count{sync="normal"}"#), 2)
        XCTAssertEqual(shown.value(#"herold_journal_commit_seconds_bucket{sync="normal",le="0.0005"}"#), 2)
    }

    private func delivery(_ channel: Channel, to recipient: String) -> Delivery {
        let event = EventKey(source: "/cms", id: "e1")
        return Delivery(id: DeliveryID.derive(event: event, rule: "r", action: 0, recipient: recipient, scheduledAt: nil),
                        event: event, rule: "r", action: 0, channel: channel, recipient: recipient,
                        notBefore: Date(timeIntervalSince1970: 0), state: .inflight, payload: nil)
    }
}
