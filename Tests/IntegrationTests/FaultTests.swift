import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Real servers that misbehave: each fault ends in the documented state, and every delivery
/// is accounted for in `herold status`.
final class FaultTests: SiteTestCase {

    private func scratch(_ name: String) throws -> URL {
        let url = try makeTemporaryDirectory(name)
        cleanup.append { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func smtpConfig(port: Int, recipients: [String]) -> String {
        """
        smtp:
          url: smtp://127.0.0.1:\(port)
          tls: none
          from: "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>"
          connect_timeout: 2
          timeout: 5
        recipients:
          partners: [\(recipients.joined(separator: ", "))]
        rules:
          - name: oglos-laureatow
            match: { type: laureates.announced }
            send:
              - email: { to: [partners], template: laureaci }
        """
    }

    /// 451 and 421 on RCPT and a dropped connection defer only their own recipient and are
    /// retried; 550 fails at once. Once the server is healthy again, the deferred ones arrive
    /// with the Message-ID of their delivery.
    func testSMTPFaultsDeferOrFailPerRecipientAndDeferredOnesArriveAfterRecovery() throws {
        let dir = try scratch("smtp-faults")
        let faulty = try SinkServer(script: "smtp_sink.py", directory: dir.appendingPathComponent("1"), extraArguments: [
            "--fail-rcpt", "later@example.org=451", "--fail-rcpt", "refused@example.org=550",
            "--fail-rcpt", "closing@example.org=421", "--drop-after-rcpt", "dropped@example.org",
        ])
        let port = faulty.port
        let site = try FaultSite(name: "smtp-faults", body: smtpConfig(port: port, recipients: [
            "ok@example.org", "later@example.org", "refused@example.org", "dropped@example.org", "closing@example.org",
        ]))
        cleanup.append { site.remove() }
        let notify = try NotifySocket(directory: site.site.root)
        let daemon = try site.site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.enqueue(TestSite.laureatesEvent(id: "awaria-smtp"))

        XCTAssertTrue(eventually { faulty.mails(to: "ok@example.org").count == 1 }, daemon.output)
        let deferred = ["later@example.org", "dropped@example.org", "closing@example.org"]
        var ids: [String: String] = [:]
        XCTAssertTrue(try eventually(timeout: 20) {
            let waiting = try site.waiting()
            for address in deferred {
                guard let entry = waiting[address], entry["state"] as? String == "deferred",
                      (entry["attempts"] as? Int ?? 0) >= 2 else { return false }
                ids[address] = entry["id"] as? String
            }
            return try site.problems()["refused@example.org"] != nil
        }, "deferred ones were not retried:\n\((try? site.waiting()) ?? [:])\n\(daemon.output)")
        let waiting = try site.waiting()
        XCTAssertTrue((waiting["later@example.org"]?["reason"] as? String ?? "").contains("smtp.451"), "\(waiting)")
        XCTAssertTrue((waiting["closing@example.org"]?["reason"] as? String ?? "").contains("smtp.421"), "\(waiting)")
        XCTAssertTrue((waiting["dropped@example.org"]?["reason"] as? String ?? "").contains("transient"), "\(waiting)")
        let refused = try XCTUnwrap(try site.problems()["refused@example.org"])
        XCTAssertEqual(refused["state"] as? String, "failed")
        XCTAssertTrue((refused["reason"] as? String ?? "").contains("550"), "\(refused)")
        XCTAssertEqual(refused["attempts"] as? Int, 1, "a permanent refusal is not retried")

        // The server comes back healthy on the same port.
        faulty.background.stop()
        let healthy = try SinkServer(script: "smtp_sink.py", directory: dir.appendingPathComponent("2"),
                                     extraArguments: ["--port", "\(port)"])
        XCTAssertTrue(eventually(timeout: 20) { healthy.records().count >= 3 }, daemon.output)
        for address in deferred {
            let mails = healthy.mails(to: address)
            XCTAssertEqual(mails.count, 1, address)
            let id = try XCTUnwrap(ids[address])
            XCTAssertEqual(mails.first?["message_id"] as? String, "<\(id)@rops.example.org>", address)
        }
        XCTAssertTrue(try eventually { try site.counts()["sent"] == 4 })
        let counts = try site.counts()
        XCTAssertEqual(counts["failed"], 1)
        XCTAssertEqual(counts.values.reduce(0, +), 5, "every delivery accounted for: \(counts)")
        XCTAssertEqual(healthy.mails(to: "refused@example.org").count, 0)
    }

    /// 500 and 429 are retried with the same webhook-id, 503's Retry-After is waited out,
    /// 410 and a redirect fail at once (the redirect not followed), a reply slower than the
    /// timeout is deferred.
    func testHTTPFaultsEndInTheirDocumentedStates() throws {
        let dir = try scratch("http-faults")
        let http = try SinkServer(script: "http_sink.py", directory: dir.appendingPathComponent("http"), extraArguments: [
            "--path-status", "/h500=500", "--path-status", "/h503=503", "--path-status", "/h429=429",
            "--path-status", "/h410=410", "--path-status", "/h302=302", "--location", "/elsewhere",
            "--path-retry-after", "/h503=4", "--path-delay", "/hslow=3",
        ])
        let names = ["h500", "h503", "h429", "h410", "h302", "hslow"]
        let webhooks = names.map { name in
            """
              \(name):
                url: http://127.0.0.1:\(http.port)/\(name)
                secret_file: secrets/hub.whsec
                allow_private: true
                connect_timeout: 2
                timeout: 1
            """
        }.joined(separator: "\n")
        let site = try FaultSite(name: "http-faults", body: """
            webhooks:
            \(webhooks)
            rules:
              - name: do-partnerow
                match: { type: laureates.announced }
                send:
            \(names.map { "      - webhook: { endpoint: \($0) }" }.joined(separator: "\n"))
            """)
        cleanup.append { site.remove() }
        let notify = try NotifySocket(directory: site.site.root)
        let daemon = try site.site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.enqueue(TestSite.laureatesEvent(id: "awaria-http"))

        XCTAssertTrue(try eventually(timeout: 20) {
            let failedCount = try site.problems().count
            return http.requests(to: "/h500").count >= 3 && http.requests(to: "/h429").count >= 3
                && http.requests(to: "/h503").count >= 2 && http.requests(to: "/hslow").count >= 2
                && failedCount == 2
        }, "\(http.records().map { $0["path"] ?? "" })\n\(daemon.output)")

        for path in ["/h500", "/h429", "/h503", "/hslow"] {
            let ids = Set(http.requests(to: path).compactMap { header("webhook-id", of: $0) })
            XCTAssertEqual(ids.count, 1, "\(path): retries carry the same webhook-id")
        }
        let h503 = http.requests(to: "/h503").compactMap { $0["received_at"] as? Double }
        XCTAssertGreaterThanOrEqual(h503[1] - h503[0], 3.9, "503 retried before its Retry-After: 4")
        let h500 = http.requests(to: "/h500").compactMap { $0["received_at"] as? Double }
        XCTAssertLessThan(h500[1] - h500[0], 3.5, "500 retried on the configured backoff (first: 1s)")

        XCTAssertEqual(http.requests(to: "/h410").count, 1)
        XCTAssertEqual(http.requests(to: "/h302").count, 1)
        XCTAssertEqual(http.requests(to: "/elsewhere").count, 0, "a redirect is never followed")
        let problems = try site.problems()
        XCTAssertEqual(problems["h410"]?["state"] as? String, "failed")
        XCTAssertTrue((problems["h410"]?["reason"] as? String ?? "").contains("http.410"), "\(problems)")
        XCTAssertEqual(problems["h302"]?["state"] as? String, "failed")
        XCTAssertTrue((problems["h302"]?["reason"] as? String ?? "").contains("not followed"), "\(problems)")

        var waiting: [String: [String: Any]] = [:]
        XCTAssertTrue(try eventually {
            waiting = try site.waiting()
            return ["h500", "h503", "h429", "hslow"].allSatisfy { waiting[$0]?["state"] as? String == "deferred" }
        }, "\(waiting)")
        XCTAssertTrue((waiting["hslow"]?["reason"] as? String ?? "").contains("curl.28"), "\(waiting)")
        XCTAssertTrue((waiting["h429"]?["reason"] as? String ?? "").contains("http.429"), "\(waiting)")
        let counts = try site.counts()
        XCTAssertEqual(counts.values.reduce(0, +), 6, "every delivery accounted for: \(counts)")
        XCTAssertEqual(counts["failed"], 2)
        XCTAssertEqual(counts["sent"], 0)
    }
}
