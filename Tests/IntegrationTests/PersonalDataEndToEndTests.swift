import Crypto
import Foundation
import XCTest

/// RODO with the built binary, a real SMTP sink and a real journal: `forget` while the
/// daemon runs, `history`, and the `log_recipients` modes in the daemon's real log output.
final class PersonalDataEndToEndTests: SiteTestCase {
    private let jan = "jan.kowalski@gops.example.org", anna = "anna.nowak@mops.example.org"
    private let warsaw = TimeZone(identifier: "Europe/Warsaw")!

    /// A site whose rules send to the people an event names: at once (`zaproszenia`) and
    /// as a reminder `before` the deadline at `at` (`przypomnienia`).
    private func makePeopleSite(_ name: String, at: String = "09:00", before: String = "[14d, 7d]",
                                extra: String = "") throws -> (FaultSite, SinkServer) {
        let dir = try makeTemporaryDirectory("\(name)-sinks")
        cleanup.append { try? FileManager.default.removeItem(at: dir) }
        let smtp = try SinkServer(script: "smtp_sink.py", directory: dir)
        let site = try FaultSite(name: name, body: """
            smtp:
              url: smtp://127.0.0.1:\(smtp.port)
              tls: none
              from: "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>"
            \(extra)
            rules:
              - name: zaproszenia
                match: { type: invite.test }
                send:
                  - email: { to: [data.recipients], template: osobiste, allowed_domains: [example.org] }
              - name: przypomnienia
                match: { type: contest.deadline }
                remind: { field: data.deadline, before: \(before), at: "\(at)" }
                send:
                  - email: { to: [data.recipients], template: osobiste, allowed_domains: [example.org] }
            """)
        cleanup.append { site.remove() }
        let templates = site.site.root.appendingPathComponent("templates/osobiste")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        try "Konkurs {{data.contest}}\n".write(to: templates.appendingPathComponent("subject.mustache"), atomically: true, encoding: .utf8)
        try "Dzień dobry,\ntermin konkursu „{{data.contest}}” mija {{data.deadline}}.\n"
            .write(to: templates.appendingPathComponent("text.mustache"), atomically: true, encoding: .utf8)
        return (site, smtp)
    }

    private func event(_ id: String, type: String, people: [String], deadline: String = "2030-01-01",
                       subject: String? = nil) -> String {
        let names = ["jan.kowalski@gops.example.org": "Jan Kowalski", "anna.nowak@mops.example.org": "Anna Nowak"]
        let list = people.map { "\"\(names[$0] ?? "") <\($0)>\"" }.joined(separator: ",")
        return """
            {"specversion":"1.0","id":"\(id)","source":"https://rops.example.org/konkursy","type":"\(type)"\
            \(subject.map { ",\"subject\":\"\($0)\"" } ?? ""),
             "data":{"contest":"Lider Pomocy Społecznej","deadline":"\(deadline)","recipients":[\(list)]}}
            """
    }

    private func localDay(_ instant: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = warsaw
        let c = calendar.dateComponents([.year, .month, .day], from: instant)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    /// The journal's three files, lower-cased.
    private func journalBytes(_ site: FaultSite) -> Data {
        var all = Data()
        for suffix in ["", "-wal", "-shm"] {
            let path = site.site.root.appendingPathComponent("state/journal.sqlite\(suffix)").path
            if let data = FileManager.default.contents(atPath: path) { all.append(data) }
        }
        return Data(all.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
    }

    func testForgetWhileTheDaemonRunsCancelsTheirRemindersAndLeavesNoTrace() throws {
        // Reminders due in 1–2 minutes: soon enough to see that Jan's never go and Anna's do.
        let due = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.up) * 60 + 60)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = warsaw
        let at = String(format: "%02d:%02d", calendar.component(.hour, from: due), calendar.component(.minute, from: due))
        let (site, smtp) = try makePeopleSite("forget", at: at, before: "[1d]")
        let daemon = try site.site.startDaemon(notify: try NotifySocket(directory: site.site.root))
        cleanup.append { daemon.stop() }

        try site.enqueue(event("zaproszenie-1", type: "invite.test", people: [jan, anna]))
        XCTAssertTrue(eventually { smtp.mails(to: jan).count == 1 && smtp.mails(to: anna).count == 1 }, daemon.output)
        try site.enqueue(event("termin-1", type: "contest.deadline", people: [jan, anna],
                               deadline: localDay(due.addingTimeInterval(86400))))
        XCTAssertTrue(try eventually { try site.waiting().count == 2 }, "both reminders queued:\n\(daemon.output)")
        XCTAssertNotNil(journalBytes(site).range(of: Data(jan.utf8)), "before: the address is in the journal")

        let forget = try runHerold(["forget", "--config", site.configPath, jan.uppercased()])
        XCTAssertEqual(forget.status, 0, forget.stderr)
        XCTAssertTrue(forget.stdout.contains("still-due deliveries to them cancelled (\"erased on request\"): 1"), forget.stdout)
        XCTAssertTrue(forget.stdout.contains("sent or failed deliveries to them erased: 1"), forget.stdout)
        XCTAssertTrue(forget.stdout.contains("events whose data named them erased: 2"), forget.stdout)
        XCTAssertTrue(forget.stdout.contains("journal checkpointed and free space zeroed: yes"), forget.stdout)
        XCTAssertFalse(forget.stdout.lowercased().contains("kowalski"), "counts only, no content")

        let bytes = journalBytes(site)
        XCTAssertNil(bytes.range(of: Data(jan.utf8)), "the address is still in journal.sqlite/-wal/-shm")
        XCTAssertNil(bytes.range(of: Data("jan kowalski".utf8)), "the name is still in the journal")
        let waiting = try site.waiting()
        XCTAssertEqual(Array(waiting.keys), [anna], "Anna's reminder still waits: \(waiting)")
        let erased = try site.status()["problems"] as? [[String: Any]] ?? []
        XCTAssertEqual(erased.map { $0["reason"] as? String }, ["erased on request"])

        // The reminders' minute comes: Anna's goes, Jan's does not.
        XCTAssertTrue(eventually(timeout: 180) { smtp.mails(to: anna).count == 2 }, daemon.output)
        usleep(2_000_000)
        XCTAssertEqual(smtp.mails(to: jan).count, 1, "only the invitation sent before forget")
        // Other people's deliveries go on, and the daemon's later writes bring nothing back.
        try site.enqueue(event("zaproszenie-2", type: "invite.test", people: [anna]))
        XCTAssertTrue(eventually { smtp.mails(to: anna).count == 3 }, daemon.output)
        XCTAssertNil(journalBytes(site).range(of: Data(jan.utf8)))
    }

    func testHistoryShowsSentPendingAndFailedWithStableJSON() throws {
        let (site, smtp) = try makePeopleSite("history")
        let daemon = try site.site.startDaemon(notify: try NotifySocket(directory: site.site.root))
        cleanup.append { daemon.stop() }
        try site.enqueue(event("zaproszenie", type: "invite.test", people: [jan]))
        XCTAssertTrue(eventually { smtp.mails(to: jan).count == 1 }, daemon.output)
        let deadline = Date().addingTimeInterval(40 * 86400)
        try site.enqueue(event("k1", type: "contest.deadline", people: [jan], deadline: localDay(deadline), subject: "lider"))
        try site.enqueue(event("k2", type: "contest.deadline", people: [jan],
                               deadline: localDay(deadline.addingTimeInterval(10 * 86400)), subject: "lider"))
        XCTAssertTrue(try eventually { try site.waiting().isEmpty == false && (try site.counts()["failed"] ?? 0) == 2 },
                      daemon.output)

        let result = try runHerold(["history", "--config", site.configPath, "--json", "--show-messages", "Jan.Kowalski@gops.example.org"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(report["content_kept_days"] as? Int, 30)
        XCTAssertEqual(report["records_kept_days"] as? Int, 365)
        let entries = try XCTUnwrap(report["deliveries"] as? [[String: Any]])
        XCTAssertEqual(entries.map { $0["state"] as? String ?? "" }.sorted(), ["failed", "failed", "pending", "pending", "sent"])
        let fields: Set<String> = ["id", "relation", "state", "channel", "destination", "rule", "event_source", "event_id",
                                   "event_type", "planned_at", "due_at", "sent_at", "finished_at", "subject", "reason",
                                   "content", "content_erased_at", "attempts", "message"]
        for entry in entries { XCTAssertEqual(Set(entry.keys), fields) }
        let sent = try XCTUnwrap(entries.first { $0["state"] as? String == "sent" })
        XCTAssertEqual(sent["rule"] as? String, "zaproszenia")
        XCTAssertEqual(sent["subject"] as? String, "Konkurs Lider Pomocy Społecznej")
        XCTAssertEqual(sent["relation"] as? String, "recipient")
        XCTAssertEqual(sent["content"] as? String, "kept")
        XCTAssertEqual(sent["event_type"] as? String, "invite.test")
        XCTAssertNotNil(sent["sent_at"] as? String)
        XCTAssertEqual((sent["attempts"] as? [[String: Any]])?.map { $0["outcome"] as? String }, ["sent"])
        XCTAssertTrue((sent["message"] as? String)?.contains("termin konkursu „Lider Pomocy Społecznej”") ?? false, "\(sent)")
        let failed = entries.filter { $0["state"] as? String == "failed" }
        XCTAssertEqual(failed.map { $0["reason"] as? String }, ["replaced by event k2", "replaced by event k2"])
        XCTAssertEqual(entries.filter { $0["state"] as? String == "pending" }.map { $0["event_id"] as? String }, ["k2", "k2"])

        let text = try runHerold(["history", "--config", site.configPath, jan])
        XCTAssertEqual(text.stdout.split(separator: "\n").count, 5, text.stdout)
        XCTAssertTrue(text.stdout.contains("sent  email  rule=zaproszenia  event=invite.test  „Konkurs Lider Pomocy Społecznej”"), text.stdout)
        XCTAssertFalse(text.stdout.contains("termin konkursu"), "messages only with --show-messages")
        let nobody = try runHerold(["history", "--config", site.configPath, "nikt@example.org"])
        XCTAssertEqual(nobody.stdout, "no deliveries to or naming this address in the journal\n")
    }

    func testMaskedAndHashedLogModesInTheRealLogOutput() throws {
        let (site, smtp) = try makePeopleSite("logmodes", extra: "log_recipients: masked")
        var daemon = try site.site.startDaemon(notify: try NotifySocket(directory: site.site.root))
        try site.enqueue(event("z1", type: "invite.test", people: [jan]))
        XCTAssertTrue(eventually { smtp.mails(to: jan).count == 1 })
        XCTAssertTrue(daemon.waitForOutput(containing: "msg=delivered"), daemon.output)
        XCTAssertTrue(daemon.output.contains("recipient=j***@gops.example.org"), daemon.output)
        XCTAssertFalse(daemon.output.contains("jan.kowalski"), daemon.output)
        daemon.stop()

        // Hashed: the keyed hash of the state folder's key, the same across a restart.
        let config = try String(contentsOfFile: site.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "log_recipients: masked", with: "log_recipients: hashed")
            .write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let keyBytes = try Data(contentsOf: site.site.root.appendingPathComponent("state/recipient.key"))
        XCTAssertEqual(keyBytes.count, 32)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(jan.utf8), using: SymmetricKey(data: keyBytes))
        let expected = "h:" + String(base32(Array(mac)).prefix(26))
        for (round, id) in ["z2", "z3"].enumerated() {
            daemon = try site.site.startDaemon(notify: try NotifySocket(directory: site.site.root))
            try site.enqueue(event(id, type: "invite.test", people: [jan]))
            XCTAssertTrue(eventually { smtp.mails(to: jan).count == round + 2 })
            XCTAssertTrue(daemon.waitForOutput(containing: "msg=delivered"), daemon.output)
            XCTAssertTrue(daemon.output.contains("recipient=\(expected)"), "round \(round):\n\(daemon.output)")
            XCTAssertFalse(daemon.output.contains("jan.kowalski"), daemon.output)
            for secret in [keyBytes.base64EncodedString(), keyBytes.map { String(format: "%02x", $0) }.joined()] {
                XCTAssertFalse(daemon.output.contains(secret), "the key is never logged")
            }
            daemon.stop()
        }
    }

    private func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var out = "", buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        return out
    }
}
