import Foundation
import HeroldConfig
import HeroldCore
import HeroldMessage
import HeroldTransport
import Logging
import XCTest

/// The transport as the daemon builds it: from a real `herold.yaml` in a temporary folder,
/// its secret files beside it, sending to real servers on 127.0.0.1.
final class DeliveryTransportTests: XCTestCase {
    let secretText = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herold-transport-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Writes `yaml` as `herold.yaml` into the test's folder and loads it as the daemon does.
    func config(_ yaml: String) throws -> HeroldConfig {
        let path = folder.appendingPathComponent("herold.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try ConfigLoader.load(path: path, environment: [:])
    }

    func write(_ text: String, _ name: String) throws {
        try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func issues(_ config: HeroldConfig, engine: TransportEngine? = nil) -> [ConfigIssue] {
        do {
            _ = try DeliveryTransport.build(config: config, engine: engine, logger: Logger(label: "test"))
            XCTFail("expected the transport to be refused")
            return []
        } catch {
            return error.issues
        }
    }

    func webhook(_ endpoint: String, id: String = "hd_transport01") -> Delivery {
        Delivery(id: DeliveryID(rawValue: id), event: EventKey(source: "/cms", id: "e1"), rule: "r", action: 0,
                 channel: .webhook, recipient: endpoint, notBefore: Date(), state: .pending,
                 payload: .webhook(WebhookContent(endpoint: endpoint, contentType: "application/json",
                                                  body: Data(#"{"ok":true}"#.utf8))))
    }

    func testAMissingSecretFileIsRefusedNamingItsConfigLine() throws {
        try write("nie-sekret\n", "old.whsec")
        let config = try config("""
            smtp:
              outbox: out/mail
              from: a@example.org
            webhooks:
              hub:
                url: "https://hub.example.org/"
                secret_file: missing.whsec
                previous_secret_file: old.whsec
            """)
        let found = issues(config)
        XCTAssertEqual(found.map(\.line), [7, 8], found.map(\.description).joined(separator: "\n"))
        XCTAssertEqual(found.first?.file, folder.appendingPathComponent("herold.yaml").path)
        XCTAssertEqual(found.first?.message, "webhooks.hub.secret_file: \(folder.appendingPathComponent("missing.whsec").path) does not exist")
        // The old secret is checked once, in the same place as the new one: one issue, not two.
        XCTAssertEqual(found.last?.message,
                       "webhooks.hub.previous_secret_file: \(folder.appendingPathComponent("old.whsec").path) does not start with \"whsec_\"")
    }

    func testAnEmptyPasswordFileIsRefusedNamingItsConfigLine() throws {
        try write("\n", "smtp-password")
        let config = try config("""
            smtp:
              url: "smtp://127.0.0.1:25"
              from: a@example.org
              username: rops
              password_file: smtp-password
            """)
        let found = issues(config)
        XCTAssertEqual(found.map(\.line), [5], found.map(\.description).joined(separator: "\n"))
        XCTAssertTrue(found.first?.message.hasSuffix("smtp-password is empty") == true, found.first?.message ?? "")
    }

    func testWebhookGoesOutSignedWithTheSecretFromItsFileAndHeaders() async throws {
        let sink = try Sink("http_sink.py")
        try write(secretText + "\n", "hub.whsec")
        let config = try config("""
            webhooks:
              hub:
                url: "http://127.0.0.1:\(sink.port)/hook"
                secret_file: hub.whsec
                allow_private: true
                headers: { X-Tenant: rops }
            """)
        let engine = try TransportEngine(threads: 1)
        defer { engine.shutdown() }
        let transport = try DeliveryTransport.build(config: config, engine: engine, logger: Logger(label: "test"))

        let reply = await transport.transmit(webhook("hub"), at: Date())
        XCTAssertEqual(try reply.get(), "HTTP 204")
        let record = try XCTUnwrap(try sink.records().first)
        let pairs = try XCTUnwrap(record["headers"] as? [[String]])
        let headers = Dictionary(pairs.map { ($0[0].lowercased(), $0[1]) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(headers["x-tenant"], "rops")
        XCTAssertEqual(headers["webhook-id"], "hd_transport01")
        let timestamp = try XCTUnwrap(Int64(headers["webhook-timestamp"] ?? ""))
        XCTAssertTrue(WebhookSignature.verify(header: headers["webhook-signature"] ?? "", secret: try WebhookSecret(secretText),
                                              id: "hd_transport01", timestamp: timestamp, body: Data(#"{"ok":true}"#.utf8)))
    }

    func testAnEndpointNotInTheConfigFailsPermanently() async throws {
        let transport = try DeliveryTransport.build(config: config("smtp:\n  outbox: out\n  from: a@example.org\n"),
                                                    engine: nil, logger: Logger(label: "test"))
        let failure = await transport.transmit(webhook("gone"), at: Date())
        guard case .failure(let error) = failure else { return XCTFail("sent to an endpoint the config does not have") }
        XCTAssertEqual(error.kind, .permanent)
        XCTAssertEqual(error.message, "no webhook endpoint named \"gone\" in the config")
    }

    func testOutboxRelayIsCreatedAndGetsTheEmailAsAFile() async throws {
        let config = try config("""
            smtp:
              outbox: out/mail
              from: "Powiadomienia <powiadomienia@example.org>"
            """)
        let engine = try TransportEngine(threads: 1)
        defer { engine.shutdown() }
        let transport = try DeliveryTransport.build(config: config, engine: engine, logger: Logger(label: "test"))
        let email = EmailContent(from: "Powiadomienia <powiadomienia@example.org>", to: "jan@example.org",
                                 subject: "Zaproszenie", text: "Dzień dobry")
        let delivery = Delivery(id: DeliveryID(rawValue: "hd_mail0001"), event: EventKey(source: "/cms", id: "e1"), rule: "r",
                                action: 0, channel: .email, recipient: "jan@example.org", notBefore: Date(), state: .pending,
                                payload: .email(email))

        let reply = await transport.transmit(delivery, at: Date())
        XCTAssertEqual(try reply.get(), "outbox hd_mail0001.eml")
        let written = try String(contentsOf: folder.appendingPathComponent("out/mail/hd_mail0001.eml"), encoding: .utf8)
        XCTAssertTrue(written.contains("To: jan@example.org"), written)
        let results = await transport.checkConnections()
        XCTAssertEqual(results.map(\.ok), [true])
        XCTAssertEqual(results.first?.destination, "smtp outbox \(folder.appendingPathComponent("out/mail").path)")
    }
}
