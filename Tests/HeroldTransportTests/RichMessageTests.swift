import Crypto
import Curl
import Foundation
import HeroldCore
import HeroldMessage
import HeroldTransport
import Logging
import XCTest

/// HTML, attachments, extra headers, XOAUTH2 and connection reuse, checked on what a real SMTP
/// server (aiosmtpd) received, parsed by Python's `email` package with the default policy.
final class RichMessageTests: XCTestCase {
    let polish = "ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ"
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herold-rich-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func file(_ name: String, _ bytes: Data) throws -> AttachmentRef {
        let url = folder.appendingPathComponent(name)
        try bytes.write(to: url)
        return AttachmentRef(name: name, path: url.path)
    }

    func sha256(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    func sender(port: Int, engine: CurlEngine, settings: (inout SMTPSettings) -> Void = { _ in }) throws -> SMTPSender {
        var s = SMTPSettings(url: "smtp://127.0.0.1:\(port)", tls: .none,
                             connectTimeout: .seconds(2), totalTimeout: .seconds(10))
        settings(&s)
        return try SMTPSender(settings: s, engine: engine, logger: Logger(label: "test"))
    }

    func compose(_ content: EmailContent, id: String = "hd_rich0001") throws -> ComposedEmail {
        try EmailComposer().compose(content, id: DeliveryID(rawValue: id), date: Date(timeIntervalSince1970: 1_795_248_000))
    }

    func testHTMLAndAttachmentsArriveAsIntendedAndByteIdentical() async throws {
        // Every byte value, and a long binary file, so base64 lines and padding are exercised.
        var binary = Data((0...255).map { UInt8($0) })
        for i in 0..<20_000 { binary.append(UInt8((i * 7919) & 0xFF)) }
        let pdf = try file("Program gali – \(polish).pdf", binary)
        let note = try file("zażółć gęślą jaźń, bardzo długa nazwa pliku z programem uroczystości wręczenia nagród 2026.txt",
                            Data("Żółw \(polish)\n".utf8))
        let subject = "Zaproszenie — \(polish) „Przeciw przemocy”"
        let text = "Szanowna Pani Dyrektor,\n\n\(polish)\n" + String(repeating: "długi wiersz ", count: 200) + "\n"
        let html = "<p>Szanowna Pani Dyrektor,</p>\n<p>\(polish) &lt;b&gt;</p>\n<p>" + String(repeating: "ż", count: 900) + "</p>\n"
        let content = EmailContent(from: "Powiadomienia ROPS Kraków <powiadomienia@example.org>",
                                   to: "Dyrektor MOPS Łódź <dyrektor@example.org>", subject: subject, text: text,
                                   html: html, attachments: [pdf, note],
                                   replyTo: "Sekretariat Świętokrzyski <sekretariat@example.org>",
                                   sender: "Ośrodek <nadawca@example.org>",
                                   listUnsubscribe: "<mailto:wypisz@example.org?subject=wypisz>, <https://example.org/wypisz/1>")
        let message = try compose(content)

        let sink = try Sink("smtp_sink.py")
        let engine = try CurlEngine()
        _ = try await sender(port: sink.port, engine: engine).send(message)
        let record = try XCTUnwrap(try sink.records().first)
        XCTAssertNil(record["parse_error"])
        XCTAssertEqual(record["subject"] as? String, subject)
        XCTAssertEqual(record["to"] as? String, "Dyrektor MOPS Łódź <dyrektor@example.org>")
        XCTAssertEqual(record["content_type"] as? String, "multipart/mixed")
        XCTAssertEqual(record["body_lf"] as? String, text)
        XCTAssertEqual((record["html"] as? String)?.replacingOccurrences(of: "\r\n", with: "\n"), html)
        XCTAssertLessThanOrEqual(try XCTUnwrap(record["max_line_length"] as? Int), 78)
        XCTAssertEqual(record["all_crlf"] as? Bool, true)

        let headers = Dictionary((record["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }) { a, _ in a }
        XCTAssertEqual(headers["reply-to"], "Sekretariat Świętokrzyski <sekretariat@example.org>")
        XCTAssertEqual(headers["sender"], "Ośrodek <nadawca@example.org>")
        XCTAssertEqual(headers["list-unsubscribe"], "<mailto:wypisz@example.org?subject=wypisz>, <https://example.org/wypisz/1>")
        XCTAssertEqual(headers["list-unsubscribe-post"], "List-Unsubscribe=One-Click")

        let parts = try XCTUnwrap(record["parts"] as? [[String: Any]])
        XCTAssertEqual(parts.map { $0["content_type"] as? String },
                       ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf", "text/plain"])
        XCTAssertEqual(parts[2]["charset"] as? String, "utf-8")
        XCTAssertEqual(parts[3]["charset"] as? String, "utf-8")
        XCTAssertEqual(parts[4]["filename"] as? String, pdf.name)
        XCTAssertEqual(parts[4]["disposition"] as? String, "attachment")
        XCTAssertEqual(parts[4]["sha256"] as? String, sha256(binary))
        XCTAssertEqual(parts[5]["filename"] as? String, note.name)
        XCTAssertEqual(parts[5]["sha256"] as? String, sha256(Data("Żółw \(polish)\n".utf8)))
        // Base64 in lines of 76 characters.
        let raw = String(decoding: message.bytes, as: UTF8.self)
        XCTAssertTrue(raw.contains("Content-Transfer-Encoding: base64\r\n"))
        let base64Lines = raw.components(separatedBy: "\r\n").filter { $0.count == 76 && !$0.contains(" ") && !$0.contains("=") }
        XCTAssertGreaterThan(base64Lines.count, 300)
    }

    func testTextOnlyStaysSinglePartAndHTMLOnlyAddsAlternative() async throws {
        let sink = try Sink("smtp_sink.py")
        let engine = try CurlEngine()
        let base = EmailContent(from: "a@example.org", to: "b@example.org", subject: "Temat \(polish)", text: "Treść \(polish)\n")
        var withHTML = base
        withHTML.html = "<p>Treść \(polish)</p>\n"
        let s = try sender(port: sink.port, engine: engine)
        _ = try await s.send(try compose(base, id: "hd_plain0001"))
        _ = try await s.send(try compose(withHTML, id: "hd_html0001"))
        let records = try sink.records()
        XCTAssertEqual(records.map { $0["content_type"] as? String }, ["text/plain", "multipart/alternative"])
        let parts = try XCTUnwrap(records[1]["parts"] as? [[String: Any]])
        XCTAssertEqual(parts.map { $0["content_type"] as? String }, ["multipart/alternative", "text/plain", "text/html"])
        XCTAssertEqual(records[1]["body_lf"] as? String, "Treść \(polish)\n")
    }

    func testMissingOrOversizedAttachmentIsRefusedBeforeSending() throws {
        let content = EmailContent(from: "a@example.org", to: "b@example.org", subject: "S", text: "T",
                                   attachments: [AttachmentRef(name: "brak.pdf", path: folder.appendingPathComponent("brak.pdf").path)])
        XCTAssertThrowsError(try compose(content)) { error in
            XCTAssertEqual((error as? MessageError)?.deliveryFailure.code, "message.attachment")
            XCTAssertTrue("\(error)".contains("brak.pdf"), "\(error)")
        }
        var big = try file("duzy.pdf", Data(count: 2000))
        big.maxBytes = 1000
        var tooBig = content
        tooBig.attachments = [big]
        XCTAssertThrowsError(try compose(tooBig)) { error in
            XCTAssertTrue("\(error)".contains("over the limit"), "\(error)")
        }
    }

    func testManyMessagesToOneRelayShareOneConnection() async throws {
        let sink = try Sink("smtp_sink.py")
        let engine = try CurlEngine()
        let s = try sender(port: sink.port, engine: engine)
        for n in 1...4 {
            let content = EmailContent(from: "a@example.org", to: "odbiorca\(n)@example.org", subject: "Nr \(n)", text: "x\n")
            _ = try await s.send(try compose(content, id: "hd_reuse000\(n)"))
        }
        let records = try sink.records()
        XCTAssertEqual(records.count, 4)
        XCTAssertEqual(Set(records.compactMap { $0["session"] as? Int }), [1], "one TCP connection for all messages")
        XCTAssertEqual(records.compactMap { $0["session_messages"] as? Int }, [1, 2, 3, 4])
        XCTAssertEqual(records.compactMap { ($0["rcpt_tos"] as? [String])?.first },
                       (1...4).map { "odbiorca\($0)@example.org" })
    }

    func testXOAUTH2TokenFromFileIsUsedAndReadAgainForEachMessage() async throws {
        let sink = try Sink("smtp_sink.py", ["--xoauth2", "konto@example.org:ya29.token-1"])
        let tokenFile = folder.appendingPathComponent("smtp-token")
        try Data("ya29.token-1\n".utf8).write(to: tokenFile)
        let engine = try CurlEngine()
        let s = try sender(port: sink.port, engine: engine) {
            $0.username = "konto@example.org"
            $0.auth = .xoauth2
            $0.tokenFile = tokenFile.path
        }
        XCTAssertFalse("\(s.settings)".contains("ya29"))
        let content = EmailContent(from: "konto@example.org", to: "b@example.org", subject: "OAuth", text: "x\n")
        _ = try await s.send(try compose(content))
        XCTAssertEqual(try sink.records().first?["auth"] as? String, "XOAUTH2")

        // An expired token: the server refuses, the delivery is not silently dropped.
        try Data("ya29.stary\n".utf8).write(to: tokenFile)
        let fresh = try sender(port: sink.port, engine: try CurlEngine()) {
            $0.username = "konto@example.org"
            $0.auth = .xoauth2
            $0.tokenFile = tokenFile.path
        }
        do {
            _ = try await fresh.send(try compose(content, id: "hd_rich0002"))
            XCTFail("a wrong token was accepted")
        } catch {
            let code = (error as? DeliveryFailure)?.code ?? "\(error)"
            XCTAssertTrue(code.hasPrefix("smtp."), code)
        }
        XCTAssertEqual(try sink.records().count, 1)
    }

    func testXOAUTH2WithoutTokenIsASettingsError() {
        var settings = SMTPSettings(url: "smtp://127.0.0.1:25", tls: .none, username: "konto@example.org")
        settings.auth = .xoauth2
        XCTAssertThrowsError(try settings.validate())
    }
}

extension RichMessageTests {
    func testParallelSendsWaitForTheOneConnectionInsteadOfOpeningMore() async throws {
        let sink = try Sink("smtp_sink.py")
        let engine = try CurlEngine()
        let s = try sender(port: sink.port, engine: engine)
        try await withThrowingTaskGroup(of: String.self) { group in
            for n in 1...6 {
                let message = try compose(EmailContent(from: "a@example.org", to: "o\(n)@example.org", subject: "Nr \(n)", text: "x\n"),
                                          id: "hd_par000\(n)")
                group.addTask { try await s.send(message) }
            }
            for try await reply in group { XCTAssertTrue(reply.hasPrefix("250"), reply) }
        }
        let records = try sink.records()
        XCTAssertEqual(records.count, 6)
        XCTAssertEqual(Set(records.compactMap { $0["session"] as? Int }), [1])
        XCTAssertEqual(records.compactMap { $0["session_messages"] as? Int }, Array(1...6))
    }
}
