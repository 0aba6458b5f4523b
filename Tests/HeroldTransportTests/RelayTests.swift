import Curl
import Foundation
import HeroldCore
import HeroldMessage
import HeroldTransport
import Logging
import XCTest

/// A relay as institutions have them: STARTTLS or implicit TLS with a certificate from a
/// private CA, AUTH required, an EHLO name it checks. Real aiosmtpd servers, real libcurl.
final class RelayTests: XCTestCase {
    static let helo = "herold.rops.example.org"

    func email(to: String = "gops@example.org") throws -> ComposedEmail {
        try EmailComposer().compose(
            EmailContent(from: "Powiadomienia ROPS <powiadomienia@rops.example.org>", to: to,
                         subject: "Zaproszenie na galę", text: "Szanowni Państwo,\nzapraszamy.\n"),
            id: DeliveryID(rawValue: "hd_relay\(UUID().uuidString.prefix(8))"), date: Date())
    }

    func sender(_ url: String, tls: SMTPSettings.TLSMode, caFile: String?, password: String? = "tajne-hasło",
                username: String? = "rops") throws -> SMTPSender {
        var settings = SMTPSettings(url: url, tls: tls, username: username, password: username == nil ? nil : password,
                                    connectTimeout: .seconds(5), totalTimeout: .seconds(10), caFile: caFile)
        settings.ehloName = Self.helo
        return try SMTPSender(settings: settings, engine: try CurlEngine(threads: 1), logger: Logger(label: "test"))
    }

    /// The STARTTLS relay of the issue: AUTH offered only after TLS, a private CA's certificate.
    func starttlsRelay(_ ca: TestCA, _ extra: [String] = ["--auth", "rops:tajne-hasło", "--auth-require-tls"]) throws -> Sink {
        try Sink("smtp_sink.py", ca.sinkArguments("--starttls") + extra)
    }

    func testMailGoesOverSTARTTLSToAPrivateCAsRelayLoggedInWithTheEHLOName() async throws {
        let ca = try TestCA()
        let sink = try starttlsRelay(ca)
        let smtp = try sender("smtp://127.0.0.1:\(sink.port)", tls: .starttls, caFile: ca.ca)
        let first = try email(), second = try email(to: "pcpr@example.org")
        let reply = try await smtp.send(first)
        XCTAssertTrue(reply.hasPrefix("250"), reply)
        _ = try await smtp.send(second)

        let records = try sink.records()
        XCTAssertEqual(records.map { $0["message_id"] as? String }, [first.messageID, second.messageID])
        for record in records {
            XCTAssertEqual(record["tls"] as? Bool, true, "the message came over TLS")
            XCTAssertEqual(record["auth_user"] as? String, "rops", "the session logged in")
            XCTAssertEqual(record["helo"] as? String, Self.helo)
        }
        // The second message reused the logged-in session: the login check lets it through.
        XCTAssertEqual(records.map { $0["session"] as? Int }, [1, 1])
        XCTAssertEqual(records.last?["session_messages"] as? Int, 2)
        let events = try sink.events()
        XCTAssertEqual(events.filter { $0["event"] as? String == "AUTH" }.map { $0["tls"] as? Bool }, [true],
                       "one login, over TLS: \(events)")
        XCTAssertEqual(events.first?["auth_offered"] as? Bool, false, "before STARTTLS the relay offers no AUTH")
    }

    func testImplicitTLSWithAPrivateCA() async throws {
        let ca = try TestCA()
        let sink = try Sink("smtp_sink.py", ca.sinkArguments("--tls") + ["--auth", "rops:tajne-hasło"])
        _ = try await sender("smtps://127.0.0.1:\(sink.port)", tls: .tls, caFile: ca.ca).send(try email())
        let record = try XCTUnwrap(try sink.records().first)
        XCTAssertEqual(record["tls"] as? Bool, true)
        XCTAssertEqual(record["auth_user"] as? String, "rops")
    }

    func testWrongPasswordIsDeferredAsALoginFailureThatPausesTheRelay() async throws {
        let ca = try TestCA()
        let sink = try starttlsRelay(ca)
        let failure = await failure {
            try await self.sender("smtp://127.0.0.1:\(sink.port)", tls: .starttls, caFile: ca.ca, password: "stare-hasło")
                .send(try self.email())
        }
        XCTAssertEqual(failure?.kind, .transient, "an expired password must not turn mail into dead letters")
        XCTAssertEqual(failure?.code, "smtp.auth")
        XCTAssertEqual(failure?.pausesDestination, true)
        XCTAssertTrue(failure?.message.contains("535") ?? false, failure?.message ?? "")
        XCTAssertEqual(try sink.records().count, 0)
        XCTAssertEqual(try sink.events().filter { $0["event"] as? String == "MAIL" }.count, 0)
    }

    func testUntrustedCertificateIsDeferredAndThePasswordNeverSent() async throws {
        let ca = try TestCA()
        let sink = try starttlsRelay(ca)
        for caFile in [ca.otherCA, nil] {  // a CA that did not sign it; the system's CAs
            let failure = await failure {
                try await self.sender("smtp://127.0.0.1:\(sink.port)", tls: .starttls, caFile: caFile).send(try self.email())
            }
            XCTAssertEqual(failure?.kind, .transient, "\(caFile ?? "system CAs")")
            XCTAssertEqual(failure?.code, "tls.certificate", failure?.message ?? "")
            XCTAssertEqual(failure?.pausesDestination, true)
        }
        XCTAssertEqual(try sink.records().count, 0)
        XCTAssertEqual(try sink.events().filter { $0["event"] as? String == "AUTH" }.count, 0, "no login to an untrusted server")
    }

    func testServerThatOffersNoAuthGetsNothingWhenCredentialsAreSet() async throws {
        let ca = try TestCA()
        let plain = try Sink("smtp_sink.py", ["--no-auth"])
        let overTLS = try starttlsRelay(ca, ["--no-auth"])
        let senders = [
            try sender("smtp://127.0.0.1:\(plain.port)", tls: .none, caFile: nil),
            try sender("smtp://127.0.0.1:\(overTLS.port)", tls: .starttls, caFile: ca.ca),
        ]
        for smtp in senders {
            for _ in 0..<2 {  // the refused session is not reused unauthenticated by the next message
                let failure = await failure { try await smtp.send(try self.email()) }
                XCTAssertEqual(failure?.kind, .transient)
                XCTAssertEqual(failure?.code, "smtp.auth")
                XCTAssertTrue(failure?.message.contains("offered no AUTH") ?? false, failure?.message ?? "")
            }
        }
        for sink in [plain, overTLS] {
            XCTAssertEqual(try sink.records().count, 0)
            let events = try sink.events()
            XCTAssertEqual(events.filter { $0["event"] as? String == "MAIL" }.count, 0, "not even MAIL FROM: \(events)")
            XCTAssertGreaterThanOrEqual(events.filter { $0["event"] as? String == "EHLO" }.count, 2, "\(events)")
        }
        // The same server takes mail from a sender without credentials: it was only the login missing.
        _ = try await sender("smtp://127.0.0.1:\(plain.port)", tls: .none, caFile: nil, username: nil).send(try email())
        XCTAssertEqual(try plain.records().count, 1)
    }

    func testSettingsRefuseABadEHLOName() {
        for name in ["vm", "bad name", "a\r\nRCPT TO:<x@example.org>", "192.0.2.1", ""] {
            var settings = SMTPSettings(url: "smtp://127.0.0.1:25", tls: .none)
            settings.ehloName = name
            XCTAssertThrowsError(try settings.validate(), name)
        }
        for name in ["herold.example.org", "[192.0.2.10]", "[IPv6:2001:db8::1]"] {
            var settings = SMTPSettings(url: "smtp://127.0.0.1:25", tls: .none)
            settings.ehloName = name
            XCTAssertNoThrow(try settings.validate(), name)
        }
    }

    func testAnAddressLiteralEHLONameReachesTheServer() async throws {
        let sink = try Sink("smtp_sink.py")
        var settings = SMTPSettings(url: "smtp://127.0.0.1:\(sink.port)/", tls: .none)
        settings.ehloName = "[IPv6:2001:db8::1]"
        _ = try await SMTPSender(settings: settings, engine: try CurlEngine(threads: 1), logger: Logger(label: "test"))
            .send(try email())
        XCTAssertEqual(try sink.records().first?["helo"] as? String, "[IPv6:2001:db8::1]")
    }
}
