import Curl
import Foundation
import HeroldCore
import HeroldMessage
import HeroldTransport
import XCTest

final class OutboxTests: XCTestCase {
    func testOutboxWritesTheExactBytesUnderTheDeliveryID() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herold-outbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let email = try EmailComposer().compose(
            EmailContent(from: "a@example.org", to: "b@example.org", subject: "Zażółć", text: "gęślą jaźń\n"),
            id: DeliveryID(rawValue: "hd_out1"), date: Date())
        _ = try await OutboxEmailSender(directory: folder.path).send(email)
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("hd_out1.eml")), email.bytes)

        let hook = try WebhookRequest.build(url: "https://hooks.example.org/x", secret: WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                                            id: DeliveryID(rawValue: "hd_out2"), timestamp: Date(),
                                            contentType: "application/json", body: Data("{}".utf8), allowPrivate: false)
        let reply = try await OutboxWebhookSender(directory: folder.path).send(hook)
        XCTAssertEqual(reply, "outbox hd_out2.http")
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("hd_out2.http")), hook.httpBytes())
        // A retry overwrites, and no temporary files are left behind.
        _ = try await OutboxEmailSender(directory: folder.path).send(email)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["hd_out1.eml", "hd_out2.http"])
    }
}

final class FailureClassifierTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_795_248_000)

    func http(_ status: Int, _ headers: [CurlHeader] = []) -> DeliveryFailure? {
        FailureClassifier.classify(.success(CurlResponse(responseCode: status, headers: headers)), protocol: .http, now: now)
    }

    func curl(_ code: Int, smtpReply: Int = 0, _ kind: TransferProtocol = .smtp) -> DeliveryFailure? {
        FailureClassifier.classify(.failure(CurlError(code: code, message: "x", responseCode: smtpReply)), protocol: kind, now: now)
    }

    func testHTTPStatusTable() {
        XCTAssertNil(http(200))
        XCTAssertNil(http(204))
        for status in [408, 425, 429, 500, 502, 503, 504] { XCTAssertEqual(http(status)?.kind, .transient, "\(status)") }
        for status in [301, 302, 307, 400, 401, 403, 404, 410, 422] { XCTAssertEqual(http(status)?.kind, .permanent, "\(status)") }
        XCTAssertEqual(http(429, [CurlHeader(name: "retry-after", value: "30")])?.retryAfter, 30)
        XCTAssertEqual(http(503, [CurlHeader(name: "Retry-After", value: "Sat, 21 Nov 2026 08:05:00 GMT")])?.retryAfter, 300)
        XCTAssertNil(http(503, [CurlHeader(name: "Retry-After", value: "soon")])?.retryAfter)
    }

    func testCurlErrorTable() {
        XCTAssertEqual(curl(6)?.kind, .transient)
        XCTAssertEqual(curl(7)?.code, "curl.7")
        XCTAssertEqual(curl(28)?.kind, .transient)
        XCTAssertEqual(curl(56, .http)?.kind, .transient)
        XCTAssertEqual(curl(1)?.kind, .permanent, "unsupported scheme")
        XCTAssertEqual(curl(43)?.kind, .permanent, "a value refused before sending")
        XCTAssertEqual(curl(7)?.pausesDestination, false)
        XCTAssertEqual(curl(55, smtpReply: 550)?.code, "smtp.550")
        XCTAssertEqual(curl(55, smtpReply: 550)?.kind, .permanent)
        XCTAssertEqual(curl(55, smtpReply: 452)?.kind, .transient)
        XCTAssertEqual(curl(67, smtpReply: 454)?.kind, .transient)
        XCTAssertNil(FailureClassifier.classify(.success(CurlResponse(responseCode: 250)), protocol: .smtp, now: now))
    }

    /// Login and TLS failures are deferred (an expired token or certificate gets fixed), never
    /// dead letters, and say that the whole destination is unusable for now.
    func testLoginAndCertificateFailuresAreDeferredAndPauseTheDestination() {
        let table: [(DeliveryFailure?, String)] = [
            (curl(67, smtpReply: 535), "smtp.auth"), (curl(67, smtpReply: 534), "smtp.auth"),
            (curl(56, smtpReply: 530), "smtp.auth"), (curl(67), "smtp.auth"),
            (curl(60), "tls.certificate"), (curl(60, .http), "tls.certificate"), (curl(77), "tls.certificate"),
            (curl(83), "tls.certificate"), (curl(58), "tls.certificate"), (curl(91), "tls.certificate"),
            (curl(35), "tls.handshake"), (curl(64), "tls.starttls"),
        ]
        for (failure, code) in table {
            XCTAssertEqual(failure?.code, code)
            XCTAssertEqual(failure?.kind, .transient, code)
            XCTAssertEqual(failure?.pausesDestination, true, code)
        }
        let stopped = FailureClassifier.classify(.failure(CurlError(code: 42, message: "x", notLoggedIn: true)),
                                                 protocol: .smtp, now: now)
        XCTAssertEqual(stopped?.code, "smtp.auth")
        // Other refusals stay what they were.
        XCTAssertEqual(curl(55, smtpReply: 550)?.pausesDestination, false)
        XCTAssertEqual(curl(55, smtpReply: 451)?.pausesDestination, false)
    }
}
