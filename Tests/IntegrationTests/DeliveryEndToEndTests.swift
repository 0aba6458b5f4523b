import Crypto
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The built binary, a real SMTP server (aiosmtpd) and a real HTTP server, all on 127.0.0.1.
final class DeliveryEndToEndTests: SiteTestCase {


    private func header(_ name: String, in record: [String: Any]) -> String? {
        (record["headers"] as? [[String]])?.first { $0[0].lowercased() == name.lowercased() }?[1]
    }

    private func normalised(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testEventInSpoolArrivesAsEmailsAndASignedWebhook() throws {
        let (site, smtp, http) = try makeSite("e2e")
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }

        let event = TestSite.laureatesEvent(id: "laureaci-2026")
        let enqueue = try runHerold(["enqueue", "--config", site.configPath, "-"], stdin: Data(event.utf8))
        XCTAssertEqual(enqueue.status, 0, enqueue.stderr)

        XCTAssertTrue(eventually { smtp.records().count >= 2 && http.records().count >= 1 },
                      "deliveries did not arrive; herold said:\n\(daemon.output)")
        let mails = smtp.records()
        XCTAssertEqual(mails.count, 2)
        XCTAssertEqual(Set(mails.compactMap { ($0["rcpt_tos"] as? [String])?.first }), ["rops@example.org", "kwp@example.org"])
        for mail in mails {
            XCTAssertEqual(mail["subject"] as? String, TestSite.expectedLaureatesSubject())
            XCTAssertEqual(normalised(mail["body_lf"] as? String ?? ""), TestSite.expectedLaureatesText())
            XCTAssertEqual(mail["mail_from"] as? String, "powiadomienia@rops.example.org")
            XCTAssertEqual(mail["from"] as? String, "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>")
            XCTAssertEqual(mail["all_crlf"] as? Bool, true)
            XCTAssertLessThanOrEqual(mail["max_line_length"] as? Int ?? 999, 78)
            XCTAssertEqual(header("Auto-Submitted", in: mail), "auto-generated")
            XCTAssertEqual(mail["content_type"] as? String, "text/plain")
            XCTAssertEqual(header("Content-Type", in: mail)?.replacingOccurrences(of: "\"", with: ""), "text/plain; charset=utf-8")
            XCTAssertTrue((mail["message_id"] as? String ?? "").hasSuffix("@rops.example.org>"))
        }
        XCTAssertNotEqual(mails[0]["message_id"] as? String, mails[1]["message_id"] as? String)

        let hook = try XCTUnwrap(http.records().first)
        XCTAssertEqual(hook["method"] as? String, "POST")
        XCTAssertEqual(hook["path"] as? String, "/hook")
        let pairs = try XCTUnwrap(hook["headers"] as? [[String]])
        let headers = Dictionary(pairs.map { ($0[0].lowercased(), $0[1]) }, uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(headers["content-type"], "application/cloudevents+json")
        let body = try XCTUnwrap(hook["body"] as? String)
        let id = try XCTUnwrap(headers["webhook-id"])
        let timestamp = try XCTUnwrap(headers["webhook-timestamp"])
        XCTAssertLessThan(abs((Double(timestamp) ?? 0) - Date().timeIntervalSince1970), 60)
        let key = SymmetricKey(data: Data(base64Encoded: String(TestSite.secret.dropFirst(6)))!)
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(body)".utf8), using: key)
        XCTAssertEqual(headers["webhook-signature"], "v1,\(Data(mac).base64EncodedString())")
        // A receiver using the Standard Webhooks reference library and the CloudEvents SDK accepts it.
        let record = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: http.directory.path)
            .first { $0.hasSuffix(".json") })
        let verify = Process()
        verify.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        verify.arguments = ["python3", repositoryRoot.appendingPathComponent("Tests/Support/verify_webhook.py").path,
                            "--secret", TestSite.secret, http.directory.appendingPathComponent(record).path]
        let verifyOut = Pipe()
        verify.standardOutput = verifyOut
        verify.standardError = verifyOut
        try verify.run()
        let verdict = String(decoding: verifyOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        verify.waitUntilExit()
        XCTAssertEqual(verify.terminationStatus, 0, verdict)
        XCTAssertTrue(verdict.hasPrefix("OK \(id) laureaci-2026 laureates.announced"), verdict)
        let sentEvent = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        XCTAssertEqual(sentEvent["id"] as? String, "laureaci-2026")
        XCTAssertEqual(sentEvent["specversion"] as? String, "1.0")

        // The journal says what happened, and the spool file is gone.
        XCTAssertTrue(eventually { site.newFiles().isEmpty })
        let status = try runHerold(["status", "--config", site.configPath, "--json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((report["counts"] as? [String: Int])?["sent"], 3, status.stdout)

        // SIGTERM: systemd hears STOPPING=1, and herold exits 0.
        daemon.signal(SIGTERM)
        XCTAssertTrue(notify.waitFor("STOPPING=1"))
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)
    }

    func testMalformedFileIsRejectedWithReasonWhileGoodOnesAreDelivered() throws {
        let (site, smtp, http) = try makeSite("reject")
        // Two before start (found by the scan), the rest while running (found by inotify).
        try site.drop(TestSite.laureatesEvent(id: "a"), as: "1-good.json")
        try site.drop(#"{"specversion":"1.0","id":"b","source":"s","type":"laureates.announced","time":"21 listopada"}"#,
                      as: "2-bad-time.json")
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        try site.drop("{ to nie jest JSON", as: "3-not-json.json")
        try site.drop(TestSite.laureatesEvent(id: "c"), as: "4-good.json")

        XCTAssertTrue(eventually { smtp.records().count >= 4 }, daemon.output)
        XCTAssertTrue(eventually { site.newFiles().isEmpty }, "left in new/: \(site.newFiles())")
        let rejected = try FileManager.default.contentsOfDirectory(atPath: site.rejected.path).sorted()
        XCTAssertEqual(rejected, ["2-bad-time.json", "2-bad-time.json.reason", "3-not-json.json", "3-not-json.json.reason"])
        let reason = try String(contentsOf: site.rejected.appendingPathComponent("2-bad-time.json.reason"), encoding: .utf8)
        XCTAssertTrue(reason.hasPrefix("event.time:"), reason)
        XCTAssertTrue(reason.contains("RFC 3339"), reason)
        let notJSON = try String(contentsOf: site.rejected.appendingPathComponent("3-not-json.json.reason"), encoding: .utf8)
        XCTAssertTrue(notJSON.contains("not valid JSON"), notJSON)
        // The rejected file is kept byte for byte.
        XCTAssertEqual(try String(contentsOf: site.rejected.appendingPathComponent("3-not-json.json"), encoding: .utf8),
                       "{ to nie jest JSON")
        XCTAssertEqual(smtp.records().count, 4)
        XCTAssertTrue(eventually { http.records().count == 2 }, "webhooks: \(http.records().count)")
    }

    func testDuplicateSourceAndIdIsDeliveredOnceEvenAcrossRestarts() throws {
        let (site, smtp, http) = try makeSite("dup")
        let notify = try NotifySocket(directory: site.root)
        var daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        let event = Data(TestSite.laureatesEvent(id: "raz").utf8)
        XCTAssertEqual(try runHerold(["enqueue", "--config", site.configPath, "-"], stdin: event).status, 0)
        XCTAssertTrue(eventually { smtp.records().count >= 2 && http.records().count >= 1 }, daemon.output)
        // The same (source, id) again, also with different data: a duplicate.
        XCTAssertEqual(try runHerold(["enqueue", "--config", site.configPath, "-"], stdin: event).status, 0)
        let changed = Data(TestSite.laureatesEvent(id: "raz", edition: "XI").utf8)
        XCTAssertEqual(try runHerold(["enqueue", "--config", site.configPath, "-"], stdin: changed).status, 0)
        XCTAssertTrue(eventually { site.newFiles().isEmpty })

        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0)
        try site.drop(String(decoding: event, as: UTF8.self), as: "again.json")
        daemon = try site.startDaemon(notify: try NotifySocket(directory: try makeTemporaryDirectory("n2")))
        XCTAssertTrue(eventually { site.newFiles().isEmpty }, daemon.output)
        usleep(500_000)
        XCTAssertEqual(smtp.records().count, 2)
        XCTAssertEqual(http.records().count, 1)
        XCTAssertTrue(daemon.waitForOutput(containing: "duplicate", timeout: 5), daemon.output)
    }

    func testPermanentSMTPRefusalIsRecordedWithTheServersReply() throws {
        let (site, smtp, http) = try makeSite("refuse", smtpArguments: ["--fail-rcpt", "kwp@example.org=550"])
        let notify = try NotifySocket(directory: site.root)
        let daemon = try site.startDaemon(notify: notify)
        cleanup.append { daemon.stop() }
        XCTAssertEqual(try runHerold(["enqueue", "--config", site.configPath, "-"],
                                     stdin: Data(TestSite.laureatesEvent(id: "odmowa").utf8)).status, 0)
        XCTAssertTrue(eventually { smtp.records().count >= 1 })
        var report: [String: Any] = [:]
        XCTAssertTrue(try eventually {
            let status = try runHerold(["status", "--config", site.configPath, "--json"])
            report = (try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]) ?? [:]
            let counts = report["counts"] as? [String: Int]
            return counts?["failed"] == 1 && counts?["sent"] == 2
        }, "\(report)\n\(daemon.output)")
        let failed = try XCTUnwrap((report["problems"] as? [[String: Any]])?.first)
        XCTAssertEqual(failed["recipient"] as? String, "kwp@example.org")
        XCTAssertTrue((failed["reason"] as? String ?? "").contains("550"), "\(failed)")
        XCTAssertEqual((report["counts"] as? [String: Int])?["sent"], 2)
        XCTAssertEqual(http.records().count, 1)
    }
}
