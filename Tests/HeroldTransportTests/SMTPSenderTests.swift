import Curl
import Foundation
import HeroldCore
import HeroldMessage
import HeroldTransport
import Logging
import XCTest

final class SMTPSenderTests: XCTestCase {
    let subject = "Zaproszenie na uroczystość wręczenia nagród w konkursie „Przeciw przemocy” — Małopolski Pracownik Socjalny Roku 2026"
    let text = """
    Szanowni Państwo,

    serdecznie zapraszamy na uroczystość wręczenia nagród, która odbędzie się 21 listopada 2026 r. w Krakowie. Prosimy o potwierdzenie obecności do 14 listopada.
    .
    Z wyrazami szacunku
    Regionalny Ośrodek Polityki Społecznej w Krakowie

    """

    func email(to: String = "gops@example.org") throws -> ComposedEmail {
        try EmailComposer().compose(
            EmailContent(from: "Powiadomienia ROPS <powiadomienia@example.org>", to: to, subject: subject, text: text),
            id: DeliveryID(rawValue: "hd_test0001"), date: Date(timeIntervalSince1970: 1_795_248_000))
    }

    func sender(port: Int, username: String? = nil, password: String? = nil) throws -> SMTPSender {
        try SMTPSender(settings: SMTPSettings(url: "smtp://127.0.0.1:\(port)", tls: .none, username: username,
                                              password: password, connectTimeout: .seconds(2), totalTimeout: .seconds(5)),
                       engine: try CurlEngine(), logger: Logger(label: "test"))
    }

    func testEmailArrivesWithTheSubjectAndBodyThatWereSent() async throws {
        let sink = try Sink("smtp_sink.py")
        let message = try email()
        let reply = try await sender(port: sink.port).send(message)
        XCTAssertTrue(reply.hasPrefix("250"), reply)

        let records = try sink.records()
        XCTAssertEqual(records.count, 1)
        let record = try XCTUnwrap(records.first)
        XCTAssertEqual(record["subject"] as? String, subject)
        XCTAssertEqual(record["body_lf"] as? String, text)
        XCTAssertEqual(record["mail_from"] as? String, "powiadomienia@example.org")
        XCTAssertEqual(record["rcpt_tos"] as? [String], ["gops@example.org"])
        XCTAssertEqual(record["message_id"] as? String, message.messageID)
        XCTAssertEqual(record["from"] as? String, "Powiadomienia ROPS <powiadomienia@example.org>")
        XCTAssertEqual(record["content_type"] as? String, "text/plain")
        XCTAssertEqual(record["all_crlf"] as? Bool, true)
        XCTAssertLessThanOrEqual(try XCTUnwrap(record["max_line_length"] as? Int), 78)
        // The bytes on the server are exactly the composed ones (curl's dot-stuffing undone).
        XCTAssertEqual(try Data(contentsOf: sink.directory.appendingPathComponent("1.eml")), message.bytes)
    }

    func testRecipientRefusedWith550IsPermanent() async throws {
        let sink = try Sink("smtp_sink.py", ["--fail-rcpt", "nobody@example.org=550"])
        let smtp = try sender(port: sink.port)
        let failure = await failure { try await smtp.send(try email(to: "nobody@example.org")) }
        XCTAssertEqual(failure?.kind, .permanent)
        XCTAssertEqual(failure?.code, "smtp.550")
        XCTAssertTrue(failure?.message.contains("5.1.1 Mailbox unavailable") ?? false, failure?.message ?? "")
        XCTAssertEqual(try sink.records().count, 0)
        // The same engine and server still deliver the next message.
        _ = try await smtp.send(try email())
        XCTAssertEqual(try sink.records().count, 1)
    }

    func testTemporaryRefusalOnDataIsTransient() async throws {
        let sink = try Sink("smtp_sink.py", ["--fail-data", "busy@example.org=451"])
        let failure = await failure { try await sender(port: sink.port).send(try email(to: "busy@example.org")) }
        XCTAssertEqual(failure?.kind, .transient)
        XCTAssertEqual(failure?.code, "smtp.451")
    }

    func testConnectionRefusedIsTransient() async throws {
        let failure = await failure { try await sender(port: 1).send(try email()) }
        XCTAssertEqual(failure?.kind, .transient)
        XCTAssertEqual(failure?.code, "curl.7")
    }

    func testSlowServerTimesOutAsTransient() async throws {
        let sink = try Sink("smtp_sink.py", ["--data-delay", "4"])
        let smtp = try SMTPSender(
            settings: SMTPSettings(url: "smtp://127.0.0.1:\(sink.port)", tls: .none,
                                   connectTimeout: .seconds(1), totalTimeout: .seconds(1)),
            engine: try CurlEngine(), logger: Logger(label: "test"))
        let started = ContinuousClock.now
        let failure = await failure { try await smtp.send(try email()) }
        XCTAssertEqual(failure?.kind, .transient)
        XCTAssertEqual(failure?.code, "curl.28")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
    }

    func testLoginWithUsernameAndPassword() async throws {
        let sink = try Sink("smtp_sink.py", ["--auth", "rops:tajne-hasło"])
        _ = try await sender(port: sink.port, username: "rops", password: "tajne-hasło").send(try email())
        XCTAssertEqual(try sink.records().count, 1)
        let failure = await failure { try await sender(port: sink.port, username: "rops", password: "złe").send(try email()) }
        // A refused login is the relay's state, not the message's: deferred, and the lane may pause.
        XCTAssertEqual(failure?.kind, .transient)
        XCTAssertEqual(failure?.code, "smtp.auth")
        XCTAssertEqual(failure?.pausesDestination, true)
        XCTAssertTrue(failure?.message.contains("535 5.7.8") ?? false, failure?.message ?? "")
        XCTAssertEqual(try sink.records().count, 1, "nothing more arrived")
    }

    func testSmuggledEnvelopeNeverReachesTheServer() async throws {
        let sink = try Sink("smtp_sink.py")
        var message = try email()
        message.recipient = "gops@example.org>\r\nRCPT TO:<victim@example.com"
        let failure = await failure { try await sender(port: sink.port).send(message) }
        XCTAssertEqual(failure?.kind, .permanent)
        XCTAssertEqual(failure?.code, "message.invalid")
        XCTAssertEqual(try sink.records().count, 0)

        // And the Curl layer refuses it on its own, before any connection.
        let engine = try CurlEngine()
        do {
            _ = try await engine.perform(.smtp(SMTPTransfer(
                url: "smtp://127.0.0.1:\(sink.port)", mailFrom: "a@example.org",
                recipient: "b@example.org\r\nDATA", message: Array(message.bytes), tls: .none)))
            XCTFail("curl accepted a CRLF in the recipient")
        } catch {
            XCTAssertEqual(error.code, CurlError.Code.badFunctionArgument)
        }
        XCTAssertEqual(try sink.records().count, 0)
    }

    func testSettingsRefuseAMismatchedSchemeAndTLSMode() {
        XCTAssertThrowsError(try SMTPSettings(url: "smtp://relay.example.org", tls: .tls).validate())
        XCTAssertThrowsError(try SMTPSettings(url: "smtps://relay.example.org", tls: .starttls).validate())
        XCTAssertThrowsError(try SMTPSettings(url: "smtps://relay.example.org", tls: .none).validate())
        XCTAssertThrowsError(try SMTPSettings(url: "http://relay.example.org", tls: .none).validate())
        XCTAssertThrowsError(try SMTPSettings(url: "smtp://r.example.org", tls: .none, password: "x\n").validate())
        XCTAssertNoThrow(try SMTPSettings(url: "smtps://relay.example.org:465", tls: .tls).validate())
        XCTAssertNoThrow(try SMTPSettings(url: "smtp://relay.example.org:587", tls: .starttls).validate())
        XCTAssertFalse("\(SMTPSettings(url: "smtp://r", tls: .none, password: "sekret"))".contains("sekret"))
    }
}
