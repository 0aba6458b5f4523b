import Curl
import Foundation
import HeroldCore
import HeroldMessage
import HeroldTransport
import Logging
import XCTest

final class WebhookSenderTests: XCTestCase {
    let secretText = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let body = Data(#"{"specversion":"1.0","id":"e1","source":"/cms","type":"laureates.announced","data":{"contest":"Przeciw przemocy"}}"#.utf8)

    func request(port: Int, path: String = "/hook", id: String = "hd_hook0001") throws -> WebhookRequest {
        try WebhookRequest.build(url: "http://127.0.0.1:\(port)\(path)", secret: try WebhookSecret(secretText),
                                 id: DeliveryID(rawValue: id), timestamp: Date(), contentType: "application/cloudevents+json",
                                 body: body, allowPrivate: true)
    }

    func sender(total: Duration = .seconds(5)) throws -> HTTPWebhookSender {
        HTTPWebhookSender(settings: HTTPSettings(connectTimeout: .seconds(2), totalTimeout: total),
                          engine: try CurlEngine(), logger: Logger(label: "test"))
    }

    func testWebhookArrivesSignedSoTheReceiverCanVerifyIt() async throws {
        let sink = try Sink("http_sink.py")
        let reply = try await sender().send(try request(port: sink.port))
        XCTAssertEqual(reply, "HTTP 204")

        let record = try XCTUnwrap(try sink.records().first)
        XCTAssertEqual(record["method"] as? String, "POST")
        XCTAssertEqual(record["path"] as? String, "/hook")
        let pairs = try XCTUnwrap(record["headers"] as? [[String]])
        let headers = Dictionary(pairs.map { ($0[0].lowercased(), $0[1]) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(headers["content-type"], "application/cloudevents+json")
        XCTAssertEqual(headers["user-agent"], "herold/0.1")
        XCTAssertEqual(headers["webhook-id"], "hd_hook0001")
        XCTAssertNil(headers["expect"])
        let received = try XCTUnwrap(Data(base64Encoded: record["body_base64"] as? String ?? ""))
        XCTAssertEqual(received, body)
        let timestamp = try XCTUnwrap(Int64(headers["webhook-timestamp"] ?? ""))
        XCTAssertLessThan(abs(Date().timeIntervalSince1970 - Double(timestamp)), 60)
        XCTAssertTrue(WebhookSignature.verify(header: headers["webhook-signature"] ?? "",
                                              secret: try WebhookSecret(secretText), id: "hd_hook0001",
                                              timestamp: timestamp, body: received))
    }

    func testServerErrorIsTransientAndHonoursRetryAfter() async throws {
        let sink = try Sink("http_sink.py", ["--status", "503", "--retry-after", "120"])
        let failure = await failure { try await sender().send(try request(port: sink.port)) }
        XCTAssertEqual(failure?.kind, .transient)
        XCTAssertEqual(failure?.code, "http.503")
        XCTAssertEqual(failure?.retryAfter, 120)
    }

    func testNotFoundIsPermanent() async throws {
        let sink = try Sink("http_sink.py", ["--path-status", "/missing=404"])
        let failure = await failure { try await sender().send(try request(port: sink.port, path: "/missing")) }
        XCTAssertEqual(failure?.kind, .permanent)
        XCTAssertEqual(failure?.code, "http.404")
        XCTAssertTrue(failure?.message.contains("status 404") ?? false, failure?.message ?? "")
    }

    func testRedirectIsPermanentAndNotFollowed() async throws {
        let sink = try Sink("http_sink.py", ["--status", "302", "--location", "/followed"])
        let failure = await failure { try await sender().send(try request(port: sink.port)) }
        XCTAssertEqual(failure?.kind, .permanent)
        XCTAssertEqual(failure?.code, "http.302")
        XCTAssertTrue(failure?.message.contains("/followed") ?? false)
        XCTAssertEqual(try sink.records().map { $0["path"] as? String }, ["/hook"])
    }

    func testSlowReplyBeyondTheTimeoutIsTransient() async throws {
        let sink = try Sink("http_sink.py", ["--delay", "4"])
        let started = ContinuousClock.now
        let failure = await failure { try await sender(total: .milliseconds(800)).send(try request(port: sink.port)) }
        XCTAssertEqual(failure?.kind, .transient)
        XCTAssertEqual(failure?.code, "curl.28")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))
    }

    func testConnectionRefusedIsTransient() async throws {
        let failure = await failure { try await sender().send(try request(port: 1)) }
        XCTAssertEqual(failure?.kind, .transient)
        XCTAssertEqual(failure?.code, "curl.7")
    }

    func testPrivateAddressIsRefusedWithoutAllowPrivate() async throws {
        let sink = try Sink("http_sink.py")
        var request = try request(port: sink.port)
        request.allowPrivateAddresses = false
        let failure = await failure { try await sender().send(request) }
        XCTAssertEqual(failure?.kind, .permanent)
        XCTAssertEqual(failure?.code, "webhook.address-refused")

        // A name can resolve to a private address; curl's connected peer is checked before sending.
        let engine = try CurlEngine()
        do {
            _ = try await engine.perform(.httpPost(HTTPPostTransfer(
                url: "http://127.0.0.1:\(sink.port)/hook", headers: [], body: Array(body),
                allowPeer: { AddressPolicy.refusal(forIP: $0) == nil })))
            XCTFail("the transfer was not refused")
        } catch {
            XCTAssertEqual(error.refusedPeer, "127.0.0.1")
        }
        XCTAssertEqual(try sink.records().count, 0, "nothing was sent")
    }

    func testManyWebhooksInParallelOnOneEngine() async throws {
        let sink = try Sink("http_sink.py", ["--delay", "0.3"])
        let sender = try sender()
        let started = ContinuousClock.now
        let replies = try await withThrowingTaskGroup(of: String.self) { group in
            for n in 0..<8 {
                let request = try request(port: sink.port, id: "hd_par\(n)")
                group.addTask { try await sender.send(request) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(replies, Array(repeating: "HTTP 204", count: 8))
        XCTAssertEqual(try sink.records().count, 8)
        // Eight 0.3 s requests overlap on the engine thread instead of queueing.
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
    }

    func testCancellingTheTaskAbortsTheTransferAndShutdownStopsTheEngine() async throws {
        let sink = try Sink("http_sink.py", ["--delay", "5"])
        let engine = try CurlEngine()
        let transfer = HTTPPostTransfer(url: "http://127.0.0.1:\(sink.port)/slow", headers: [], body: [],
                                        timeouts: CurlTimeouts(connect: .seconds(2), total: .seconds(10)))
        let started = ContinuousClock.now
        let task = Task { try await engine.perform(.httpPost(transfer)) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.result
        XCTAssertThrowsError(try result.get())
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3))

        engine.shutdown()
        do {
            _ = try await engine.perform(.httpPost(transfer))
            XCTFail("a shut-down engine performed a transfer")
        } catch {
            XCTAssertEqual(error.code, CurlError.Code.abortedByCallback)
        }
    }
}
