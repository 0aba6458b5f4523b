import HeroldCore
import HeroldMessage
import XCTest

final class WebhookTests: XCTestCase {
    func testStandardWebhooksPublishedTestVector() throws {
        // From the Standard Webhooks reference libraries' tests (svix "testSignFunctionWorks").
        let secret = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let signature = WebhookSignature.sign(secret: secret, id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                              timestamp: 1_614_265_330, body: Data(#"{"test": 2432232314}"#.utf8))
        XCTAssertEqual(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        XCTAssertTrue(WebhookSignature.verify(header: "v1,bm9wZQ== " + signature, secret: secret,
                                              id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                                              body: Data(#"{"test": 2432232314}"#.utf8)))
        XCTAssertFalse(WebhookSignature.verify(header: signature, secret: secret, id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                               timestamp: 1_614_265_331, body: Data(#"{"test": 2432232314}"#.utf8)))
    }

    func testSecretFileWithTrailingNewlineAndBadSecrets() throws {
        XCTAssertEqual(try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"),
                       try WebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        XCTAssertThrowsError(try WebhookSecret("whsec_not base64!"))
        XCTAssertEqual("\(try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))", "WebhookSecret(redacted)")
    }

    func testBuiltRequestIsSignedAndSerialisesAsHTTP() throws {
        let secret = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let body = Data(#"{"specversion":"1.0","id":"1"}"#.utf8)
        let request = try WebhookRequest.build(
            url: "https://hooks.example.org:8443/partners/hook?x=1", secret: secret,
            id: DeliveryID(rawValue: "hd_abc"), timestamp: Date(timeIntervalSince1970: 1_700_000_000.7),
            contentType: "application/cloudevents+json", body: body, allowPrivate: false)
        let headers = Dictionary(uniqueKeysWithValues: request.headers.map { ($0.name, $0.value) })
        XCTAssertEqual(headers["webhook-id"], "hd_abc")
        XCTAssertEqual(headers["webhook-timestamp"], "1700000000")
        XCTAssertEqual(headers["Content-Type"], "application/cloudevents+json")
        XCTAssertEqual(headers["User-Agent"], "herold/0.1")
        XCTAssertTrue(WebhookSignature.verify(header: headers["webhook-signature"] ?? "", secret: secret,
                                              id: "hd_abc", timestamp: 1_700_000_000, body: body))
        let text = String(decoding: request.httpBytes(), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("POST /partners/hook?x=1 HTTP/1.1\r\nHost: hooks.example.org:8443\r\n"))
        XCTAssertTrue(text.hasSuffix("Content-Length: \(body.count)\r\n\r\n" + String(decoding: body, as: UTF8.self)))
    }

    func testPrivateAndLoopbackAddressesAreRefusedUnlessAllowed() throws {
        let secret = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        func build(_ url: String, allow: Bool = false) throws -> WebhookRequest {
            try WebhookRequest.build(url: url, secret: secret, id: DeliveryID(rawValue: "hd_x"), timestamp: Date(),
                                     contentType: "application/json", body: Data(), allowPrivate: allow)
        }
        let refused = [
            "http://127.0.0.1/hook", "http://127.1:8080/", "http://2130706433/", "http://0x7f000001/",
            "http://localhost:8080/", "http://api.localhost/", "http://10.1.2.3/", "http://172.20.0.1/",
            "http://192.168.1.10/", "http://169.254.169.254/latest/meta-data/", "http://0.0.0.0/",
            "http://[::1]:8080/", "http://[::]/", "http://[fd00::1]/", "http://[fe80::1%25eth0]/",
            "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
        ]
        for url in refused {
            XCTAssertThrowsError(try build(url), url) { error in
                guard case .addressNotAllowed? = error as? MessageError else { return XCTFail("\(url): \(error)") }
                XCTAssertEqual((error as? MessageError)?.deliveryFailure.kind, .permanent)
            }
            XCTAssertNoThrow(try build(url, allow: true), url)
        }
        for url in ["https://hooks.example.org/x", "http://93.184.216.34/", "http://[2001:db8::1]/", "http://172.32.0.1/"] {
            XCTAssertNoThrow(try build(url), url)
        }
        for url in ["ftp://example.org/", "file:///etc/passwd", "gopher://x/", "http://user:pw@example.org/",
                    "http://example.org/a b", "http://example.org\r\nX: y/"] {
            XCTAssertThrowsError(try build(url, allow: true), url) { error in
                guard case .invalidURL? = error as? MessageError else { return XCTFail("\(url): \(error)") }
            }
        }
    }
}
