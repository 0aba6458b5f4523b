import Curl
import Foundation
import HeroldCore
import HeroldMessage
import HeroldTransport
import Logging
import XCTest

/// Extra headers per endpoint and two signatures during key rotation, as a receiver sees them.
final class WebhookRotationTests: XCTestCase {
    let newSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let oldSecret = "whsec_c3Rhcnkgc2VrcmV0IGRvIHJvdGFjamkgMTIzNDU2"
    let body = Data(#"{"nazwa":"Żółć \"cytat\" </script>"}"#.utf8)

    func build(port: Int = 9, extra: [HeaderField] = [], previous: Bool = true) throws -> WebhookRequest {
        try WebhookRequest.build(url: "http://127.0.0.1:\(port)/hook", secret: try WebhookSecret(newSecret),
                                 id: DeliveryID(rawValue: "hd_rot0001"), timestamp: Date(timeIntervalSince1970: 1_795_248_000),
                                 contentType: "application/json", body: body, allowPrivate: true,
                                 previousSecret: previous ? try WebhookSecret(oldSecret) : nil, extraHeaders: extra)
    }

    func testReceiversWithEitherKeyVerifyAndExtraHeadersArrive() async throws {
        let sink = try Sink("http_sink.py")
        let request = try build(port: sink.port, extra: [HeaderField(name: "X-Zrodlo", value: "herold ROPS")])
        let sender = HTTPWebhookSender(settings: HTTPSettings(connectTimeout: .seconds(2), totalTimeout: .seconds(5)),
                                       engine: try CurlEngine(), logger: Logger(label: "test"))
        _ = try await sender.send(request)
        let record = try XCTUnwrap(try sink.records().first)
        let headers = Dictionary((record["headers"] as? [[String]] ?? []).map { ($0[0].lowercased(), $0[1]) }) { a, _ in a }
        XCTAssertEqual(headers["x-zrodlo"], "herold ROPS")
        let signature = try XCTUnwrap(headers["webhook-signature"])
        XCTAssertEqual(signature.split(separator: " ").count, 2)
        XCTAssertTrue(signature.split(separator: " ").allSatisfy { $0.hasPrefix("v1,") })
        let timestamp = try XCTUnwrap(Int64(headers["webhook-timestamp"] ?? ""))
        for secret in [newSecret, oldSecret] {
            XCTAssertTrue(WebhookSignature.verify(header: signature, secret: try WebhookSecret(secret), id: "hd_rot0001",
                                                  timestamp: timestamp, body: body), secret)
        }
        XCTAssertFalse(WebhookSignature.verify(header: signature, secret: try WebhookSecret("whsec_aW5ueSBrbHVjeiBpbm55IGtsdWN6IGlubnk="),
                                               id: "hd_rot0001", timestamp: timestamp, body: body))
    }

    func testOneSecretGivesOneSignature() throws {
        let request = try build(previous: false)
        let signature = request.headers.first { $0.name == "webhook-signature" }?.value ?? ""
        XCTAssertFalse(signature.contains(" "))
    }

    func testHeaderInjectionAndOurOwnHeadersAreRefused() {
        for header in [HeaderField(name: "X-A", value: "a\r\nX-Evil: 1"), HeaderField(name: "X-A", value: "a\nb"),
                       HeaderField(name: "webhook-signature", value: "v1,forged"), HeaderField(name: "Webhook-Id", value: "x"),
                       HeaderField(name: "Content-Type", value: "text/html"), HeaderField(name: "X A", value: "spacja"),
                       HeaderField(name: "Host", value: "evil.example"), HeaderField(name: "user-agent", value: "x"),
                       HeaderField(name: "Content-Length", value: "0")] {
            XCTAssertThrowsError(try build(extra: [header]), "\(header)")
        }
    }
}
