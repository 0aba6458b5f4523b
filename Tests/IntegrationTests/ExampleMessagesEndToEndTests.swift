import Crypto
import Foundation
import XCTest

/// The shipped example configuration (Config/), pointed at a real SMTP server: the ceremony
/// invitation arrives as text + HTML with the programme PDF, personal salutations, Reply-To.
final class ExampleMessagesEndToEndTests: SiteTestCase {

    /// A copy of Config/ whose email goes to `smtpPort` and whose webhooks go to `httpPort`.
    private func exampleSite(smtpPort: Int, httpPort: Int) throws -> URL {
        let root = try makeTemporaryDirectory("example")
        cleanup.append { try? FileManager.default.removeItem(at: root) }
        let site = root.appendingPathComponent("Config")
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("Config"), to: site)
        let configURL = site.appendingPathComponent("herold.yaml")
        var yaml = try String(contentsOf: configURL, encoding: .utf8)
        for (from, to) in [("  outbox: ./outbox/poczta\n", "  url: smtp://127.0.0.1:\(smtpPort)\n"),
                           ("    outbox: ./outbox/webhooki\n", ""),
                           ("http://127.0.0.1:8080/hook", "http://127.0.0.1:\(httpPort)/hook")] {
            XCTAssertTrue(yaml.contains(from), from)
            yaml = yaml.replacingOccurrences(of: from, with: to)
        }
        try yaml.write(to: configURL, atomically: true, encoding: .utf8)
        return site
    }

    private func sha256(_ url: URL) throws -> String {
        SHA256.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
    }

    private func header(_ name: String, in record: [String: Any]) -> String? {
        (record["headers"] as? [[String]])?.first { $0[0].lowercased() == name.lowercased() }?[1]
    }

    func testCeremonyInvitationArrivesWithHTMLProgrammeAndSalutation() throws {
        let scratch = try makeTemporaryDirectory("example-sinks")
        cleanup.append { try? FileManager.default.removeItem(at: scratch) }
        let smtp = try SinkServer(script: "smtp_sink.py", directory: scratch.appendingPathComponent("mail"))
        let http = try SinkServer(script: "http_sink.py", directory: scratch.appendingPathComponent("http"))
        let site = try exampleSite(smtpPort: smtp.port, httpPort: http.port)
        let config = site.appendingPathComponent("herold.yaml").path

        // A value that would break HTML if it were not escaped.
        var event = try String(contentsOf: site.appendingPathComponent("events/uroczystosc-gala.json"), encoding: .utf8)
        event = event.replacingOccurrences(of: "\"venue\": \"Międzynarodowe Centrum Kultury w Krakowie\"",
                                           with: "\"venue\": \"Sala <script>alert(1)</script> & \\\"Złota\\\"\"")
        XCTAssertTrue(event.contains("<script>"))

        let notify = try NotifySocket(directory: scratch)
        let daemon = try BackgroundProcess(executable: heroldBinary, arguments: ["serve", "--config", config],
                                           environment: ["NOTIFY_SOCKET": notify.path])
        cleanup.append { daemon.stop() }
        XCTAssertTrue(notify.waitFor("READY=1"), daemon.output)
        let enqueue = try runHerold(["enqueue", "--config", config, "-"], stdin: Data(event.utf8))
        XCTAssertEqual(enqueue.status, 0, enqueue.stderr)

        XCTAssertTrue(eventually { smtp.records().count >= 6 }, "mails did not arrive:\n\(daemon.output)")
        let mails = smtp.records()
        XCTAssertEqual(mails.count, 6)
        let pdfHash = try sha256(site.appendingPathComponent("zalaczniki/program-gali.pdf"))
        for mail in mails {
            XCTAssertNil(mail["parse_error"])
            XCTAssertEqual(mail["content_type"] as? String, "multipart/mixed")
            let parts = mail["parts"] as? [[String: Any]] ?? []
            XCTAssertEqual(parts.map { $0["content_type"] as? String },
                           ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"])
            XCTAssertEqual(parts.last?["filename"] as? String, "program-gali.pdf")
            XCTAssertEqual(parts.last?["sha256"] as? String, pdfHash)
            XCTAssertLessThanOrEqual(mail["max_line_length"] as? Int ?? 999, 78)
            XCTAssertEqual(header("Reply-To", in: mail), "Sekretariat ROPS <sekretariat@rops.example.org>")
            let html = mail["html"] as? String ?? ""
            XCTAssertFalse(html.contains("<script>"), html)
            XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp;"), html)
            XCTAssertTrue((mail["body"] as? String ?? "").contains("Sala <script>alert(1)</script> & \"Złota\""))
            XCTAssertTrue((mail["subject"] as? String ?? "").hasPrefix("Zaproszenie: Konferencja wojewódzka „Wspólne działanie"))
            XCTAssertTrue((mail["body_lf"] as? String ?? "").contains("W załączeniu: program-gali.pdf.\n"))
        }
        // Six messages, all at once from the queue, over one SMTP session (smtp.max_connections: 1).
        XCTAssertEqual(Set(mails.compactMap { $0["session"] as? Int }), [1])
        XCTAssertEqual(mails.compactMap { $0["session_messages"] as? Int }, Array(1...6))
        let director = try XCTUnwrap(mails.first { ($0["rcpt_tos"] as? [String]) == ["sekretariat@rops.example.org"] })
        XCTAssertEqual(director["to"] as? String, "ROPS w Krakowie <sekretariat@rops.example.org>")
        XCTAssertTrue((director["body_lf"] as? String ?? "").hasPrefix("Szanowna Pani Dyrektor,\n"))
        XCTAssertTrue((director["html"] as? String ?? "").contains("<p>Szanowna Pani Dyrektor,</p>"))
        let other = try XCTUnwrap(mails.first { ($0["rcpt_tos"] as? [String]) == ["gops@wieliczka.example.org"] })
        XCTAssertTrue((other["body_lf"] as? String ?? "").hasPrefix("Szanowni Państwo,\n"))
    }

    func testPreviewOutWritesMessagesAMailProgramCanOpen() throws {
        let site = try exampleSite(smtpPort: 9, httpPort: 9)
        let out = site.appendingPathComponent("podglad")
        let config = site.appendingPathComponent("herold.yaml").path
        for event in ["uroczystosc-gala.json", "laureaci-przeciw-przemocy.json"] {
            let result = try runHerold(["preview", "--config", config, site.appendingPathComponent("events/\(event)").path,
                                        "--out", out.path])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(files.filter { $0.hasSuffix(".eml") }.count, 6 + 3)
        XCTAssertEqual(files.filter { $0.hasSuffix(".http") }.count, 1)
        // Parsed by Python's email package, as a mail program would.
        let script = """
        import email, email.policy, sys, os, json
        out = []
        for name in sorted(os.listdir(sys.argv[1])):
            raw = open(os.path.join(sys.argv[1], name), 'rb').read()
            if not name.endswith('.eml'):
                out.append({'name': name, 'first': raw.split(b'\\r\\n')[0].decode()})
                continue
            m = email.message_from_bytes(raw, policy=email.policy.default)
            out.append({'name': name, 'subject': str(m['subject']), 'type': m.get_content_type(),
                        'files': [p.get_filename() for p in m.iter_attachments()],
                        'defects': len(m.defects) + sum(len(p.defects) for p in m.walk())})
        print(json.dumps(out))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, out.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        XCTAssertEqual(parsed.count, 10)
        for message in parsed where (message["name"] as? String)?.hasSuffix(".eml") == true {
            XCTAssertEqual(message["defects"] as? Int, 0, "\(message)")
            if (message["subject"] as? String)?.hasPrefix("Zaproszenie") == true {
                XCTAssertEqual(message["type"] as? String, "multipart/mixed")
                XCTAssertEqual(message["files"] as? [String], ["program-gali.pdf"])
            } else {
                XCTAssertEqual(message["type"] as? String, "text/plain")
            }
        }
        let request = try XCTUnwrap(parsed.first { ($0["name"] as? String)?.hasSuffix(".http") == true })
        XCTAssertEqual(request["first"] as? String, "POST /hook HTTP/1.1")
    }
}
