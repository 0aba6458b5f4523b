import Curl
import Foundation
import HeroldCore
import HeroldMessage
import HeroldTransport
import Logging
import XCTest

/// Connections as a relay sees them: a session it dropped for idleness is reconnected at once,
/// herold closes sessions before the relay would, a message cut off after DATA is not resent,
/// and webhooks to one endpoint reuse one kept-alive connection. Real servers, real libcurl.
final class ConnectionTests: XCTestCase {
    static let helo = "herold.rops.example.org"

    func email(to: String = "gops@example.org") throws -> ComposedEmail {
        try EmailContent(from: "Powiadomienia ROPS <powiadomienia@rops.example.org>", to: to,
                         subject: "Życzenia z okazji Dnia Pracownika Socjalnego", text: "Szanowni Państwo,\nżyczymy...\n")
            .composed(id: "hd_conn\(UUID().uuidString.prefix(8))")
    }

    /// A sender with its own engine of 4 threads (as the daemon has).
    func sender(_ url: String, tls: SMTPSettings.TLSMode = .none, caFile: String? = nil, login: Bool = false,
                idleTimeout: Duration = .seconds(50)) throws -> SMTPSender {
        var settings = SMTPSettings(url: url, tls: tls, username: login ? "rops" : nil, password: login ? "tajne-hasło" : nil,
                                    connectTimeout: .seconds(5), totalTimeout: .seconds(10), caFile: caFile)
        settings.ehloName = Self.helo
        settings.idleTimeout = idleTimeout
        return try SMTPSender(settings: settings, engine: try CurlEngine(), logger: Logger(label: "test"))
    }

    /// The STARTTLS relay with AUTH of a typical institution, dropping sessions idle for 2 s.
    func impatientRelay(_ ca: TestCA, _ extra: [String] = []) throws -> Sink {
        try Sink("smtp_sink.py", ca.sinkArguments("--starttls") + ["--auth", "rops:tajne-hasło", "--idle-timeout", "2"] + extra)
    }

    func events(_ sink: Sink, _ name: String) throws -> [[String: Any]] {
        try sink.events().filter { $0["event"] as? String == name }
    }

    /// Waits (generously) until the relay has dropped an idle session.
    func waitForIdleClose(_ sink: Sink, count: Int = 1) async throws {
        let deadline = Date().addingTimeInterval(15)
        while try events(sink, "IDLE_CLOSE").count < count, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(try events(sink, "IDLE_CLOSE").count, count, "the relay dropped the idle session")
    }

    func testARelayThatDroppedTheIdleSessionCostsNoFailure() async throws {
        let ca = try TestCA()
        let overTLS = try impatientRelay(ca)
        let plain = try Sink("smtp_sink.py", ["--idle-timeout", "2"])
        let cases = [(overTLS, try sender("smtp://127.0.0.1:\(overTLS.port)", tls: .starttls, caFile: ca.ca, login: true)),
                     (plain, try sender("smtp://127.0.0.1:\(plain.port)"))]
        for (sink, smtp) in cases {
            let first = try email(), second = try email(to: "pcpr@example.org")
            _ = try await smtp.send(first)
            try await waitForIdleClose(sink)
            // The next message finds the session dead and goes at once on a new one: no error.
            let reply = try await smtp.send(second)
            XCTAssertTrue(reply.hasPrefix("250"), reply)

            let records = try sink.records()
            XCTAssertEqual(records.map { $0["message_id"] as? String }, [first.messageID, second.messageID])
            XCTAssertEqual(records.map { $0["session"] as? Int }, [1, 2], "the second message came on a new session")
            XCTAssertEqual(records.map { $0["session_messages"] as? Int }, [1, 1])
        }
        XCTAssertEqual(try events(overTLS, "AUTH").map { $0["ok"] as? Bool }, [true, true], "logged in again on the new session")
    }

    /// Without the sender's reconnect the engine's transfer fails on such a session: it is
    /// reported as stale (nothing of the message accepted), which is what lets the sender redo it.
    func testTheEngineReportsTheDroppedSessionAsStaleAndNothingWasTaken() async throws {
        let ca = try TestCA()
        let sink = try impatientRelay(ca)
        let engine = try CurlEngine(threads: 1)
        var transfer = SMTPTransfer(url: "smtp://127.0.0.1:\(sink.port)", mailFrom: "powiadomienia@rops.example.org",
                                    recipient: "gops@example.org", message: Array(try email().bytes), tls: .starttls,
                                    username: "rops", password: "tajne-hasło", caFile: ca.ca)
        transfer.ehloName = Self.helo
        _ = try await engine.perform(.smtp(transfer))
        try await waitForIdleClose(sink)
        do {
            let response = try await engine.perform(.smtp(transfer))
            XCTFail("a dropped session delivered: \(response)")
        } catch {
            XCTAssertTrue(error.staleConnection, "\(error)")
        }
        XCTAssertEqual(try sink.records().count, 1)
        XCTAssertEqual(try events(sink, "MAIL").count, 1, "the dropped session took no MAIL FROM")
        // Told to, the engine opens a new connection, and the message goes.
        transfer.freshConnection = true
        let response = try await engine.perform(.smtp(transfer))
        XCTAssertEqual(response.responseCode, 250)
        XCTAssertEqual(try sink.records().map { $0["session"] as? Int }, [1, 2])
    }

    func testAMessageCutOffAfterDATAIsDeferredNotResent() async throws {
        let sink = try Sink("smtp_sink.py", ["--drop-after-data", "zgubiona@example.org"])
        let smtp = try sender("smtp://127.0.0.1:\(sink.port)")
        _ = try await smtp.send(try email())
        // On the reused session the relay reads the whole message, then vanishes without a
        // reply: it may have taken it, so herold must not send it again on its own.
        let failure = await failure { try await smtp.send(try self.email(to: "zgubiona@example.org")) }
        XCTAssertEqual(failure?.kind, .transient, "deferred, the normal retry decides: \(failure?.message ?? "")")
        XCTAssertEqual(try events(sink, "DATA_DROPPED").count, 1, "sent once, not resent")
        XCTAssertEqual(try sink.records().count, 1)
    }

    func testIdleSessionsAreClosedBeforeTheRelayWouldDropThem() async throws {
        // The relay would wait 30 s; herold keeps a session idle at most 1 s, or libcurl's 118 s.
        let brief = try Sink("smtp_sink.py", ["--idle-timeout", "30"])
        let long = try Sink("smtp_sink.py", ["--idle-timeout", "30"])
        let senders = [(brief, try sender("smtp://127.0.0.1:\(brief.port)", idleTimeout: .seconds(1))),
                       (long, try sender("smtp://127.0.0.1:\(long.port)"))]
        let first = try email(), second = try email(to: "pcpr@example.org")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (_, smtp) in senders {
                group.addTask {
                    _ = try await smtp.send(first)
                    try await Task.sleep(for: .seconds(3))
                    _ = try await smtp.send(second)
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(try brief.records().map { $0["session"] as? Int }, [1, 2], "idle 3 s > 1 s: closed, a new session")
        XCTAssertEqual(try long.records().map { $0["session"] as? Int }, [1, 1], "idle 3 s < 50 s: the session was reused")
        for sink in [brief, long] {
            XCTAssertEqual(try events(sink, "IDLE_CLOSE").count, 0, "the relay never had to drop a session")
        }
    }

    func webhook(to sink: Sink, _ n: Int) throws -> WebhookRequest {
        try WebhookRequest.build(
            url: "http://127.0.0.1:\(sink.port)/hook/\(n)?n=\(n)", secret: try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            id: DeliveryID(rawValue: "hd_keep000\(n)"), timestamp: Date(), contentType: "application/json",
            body: Data(#"{"n":\#(n)}"#.utf8), allowPrivate: true)
    }

    func webhookSender() throws -> HTTPWebhookSender {
        // Four engine threads, each with its own connection cache: an endpoint must stay on one.
        HTTPWebhookSender(settings: HTTPSettings(connectTimeout: .seconds(2), totalTimeout: .seconds(5)),
                          engine: try CurlEngine(threads: 4), logger: Logger(label: "test"))
    }

    func testWebhooksToOneEndpointReuseOneKeptAliveConnection() async throws {
        let first = try Sink("http_sink.py"), second = try Sink("http_sink.py")
        let webhooks = try webhookSender()
        for n in 1...6 {
            for sink in [first, second] {
                let reply = try await webhooks.send(try webhook(to: sink, n))
                XCTAssertEqual(reply, "HTTP 204")
            }
        }
        for sink in [first, second] {
            let records = try sink.records()
            XCTAssertEqual(records.count, 6)
            XCTAssertEqual(Set(records.compactMap { $0["peer_port"] as? Int }).count, 1,
                           "all six requests came over one connection: \(records.map { $0["peer_port"] ?? "-" })")
        }
    }

    func testAnEndpointThatClosedTheIdleConnectionGetsTheNextWebhookOnANewOne() async throws {
        let sink = try Sink("http_sink.py", ["--idle-timeout", "1"])
        let webhooks = try webhookSender()
        let before = try await webhooks.send(try webhook(to: sink, 1))
        try await Task.sleep(for: .seconds(3))  // the endpoint closes the kept-alive connection after 1 s
        let after = try await webhooks.send(try webhook(to: sink, 2))
        XCTAssertEqual([before, after], ["HTTP 204", "HTTP 204"], "no failure for a closed connection")
        let ports = try sink.records().compactMap { $0["peer_port"] as? Int }
        XCTAssertEqual(ports.count, 2)
        XCTAssertNotEqual(ports.first, ports.last, "the second request came on a new connection")
    }

    /// A relay that sits on its reply to DATA (libcurl waits for that reply in a blocking loop,
    /// stalling every transfer of its thread) holds up no webhook, whichever endpoint: mail and
    /// webhooks never share an engine thread. Sixteen endpoints (distinct origins) are posted
    /// to while the relay sits; each must be answered long before the relay replies.
    func testARelaySittingOnItsReplyToDATAHoldsUpNoWebhook() async throws {
        let relay = try Sink("smtp_sink.py", ["--data-delay", "6"])
        let hooks = try Sink("http_sink.py")
        let engine = try CurlEngine()   // 4 threads, as the daemon has
        var transfer = SMTPTransfer(url: "smtp://127.0.0.1:\(relay.port)", mailFrom: "powiadomienia@rops.example.org",
                                    recipient: "gops@example.org", message: Array(try email().bytes), tls: .none)
        transfer.ehloName = Self.helo
        let started = ContinuousClock.now
        let mail = Task { try await engine.perform(.smtp(transfer)) }
        let deadline = Date().addingTimeInterval(5)
        while try events(relay, "MAIL").isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(500))   // the message is sent; the relay sits on its reply

        // Each endpoint is its own origin ("partnerN@" makes the authority differ), as separate
        // partners' endpoints are.
        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<16 {
                let post = HTTPPostTransfer(url: "http://partner\(n)@127.0.0.1:\(hooks.port)/hook/\(n)", headers: [],
                                            body: Array("{\"n\":\(n)}".utf8),
                                            timeouts: CurlTimeouts(connect: .seconds(2), total: .seconds(10)))
                group.addTask { try await engine.perform(.httpPost(post)).responseCode }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let webhooksDone = ContinuousClock.now - started
        XCTAssertEqual(answered, Array(repeating: 204, count: 16))
        XCTAssertLessThan(webhooksDone, .seconds(4), "a webhook waited for the relay's reply to DATA")
        let reply = try await mail.value
        XCTAssertEqual(reply.responseCode, 250)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .seconds(5), "the relay did sit on its reply")
        engine.shutdown()
    }

    /// A relay's messages at once each get a mail thread of their own, each keeping its own
    /// session: eight messages to a relay that takes 1 s to answer each DATA (libcurl waits
    /// for that reply in a blocking loop, stalling its thread) take about 1 s, as with
    /// `smtp.max_connections: 8` a relay with a slow content filter should — not 4 s on the
    /// engine's two first mail threads, or 8 s on one; they use at most eight sessions,
    /// reused in the next round; and one message at a time keeps to one session and starts
    /// no thread.
    func testARelaysMessagesAtOnceEachGetAMailThreadWithoutExtraSessions() async throws {
        let relay = try Sink("smtp_sink.py", ["--data-delay", "1"])
        let engine = try CurlEngine()   // 4 threads, as the daemon starts with: two for mail
        var transfer = SMTPTransfer(url: "smtp://127.0.0.1:\(relay.port)", mailFrom: "powiadomienia@rops.example.org",
                                    recipient: "gops@example.org", message: Array(try email().bytes), tls: .none)
        transfer.ehloName = Self.helo
        let message = transfer
        for _ in 0..<2 {
            let reply = try await engine.perform(.smtp(message))
            XCTAssertEqual(reply.responseCode, 250)
        }
        XCTAssertEqual(try events(relay, "EHLO").count, 1, "one message at a time keeps to one session")
        XCTAssertEqual(engine.threadCounts.mail, 2, "one message at a time started no mail thread")
        var rounds: [Duration] = []
        for _ in 0..<2 {
            let started = ContinuousClock.now
            let codes = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 { group.addTask { try await engine.perform(.smtp(message)).responseCode } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            rounds.append(ContinuousClock.now - started)
            XCTAssertEqual(codes, Array(repeating: 250, count: 8))
        }
        XCTAssertLessThan(rounds.max() ?? .zero, .seconds(3),
                          "eight 1-second replies to DATA took \(rounds): they waited for each other on shared threads")
        let sessions = try events(relay, "EHLO").count
        XCTAssertLessThanOrEqual(sessions, 8, "at most as many sessions as messages at once, reused in the second round")
        XCTAssertEqual(engine.threadCounts.mail, 8, "a mail thread for each message at once, no more")
        XCTAssertEqual(engine.threadCounts.webhooks, 2)
        engine.shutdown()
    }
}

extension EmailContent {
    func composed(id: String) throws -> ComposedEmail {
        try EmailComposer().compose(self, id: DeliveryID(rawValue: id), date: Date())
    }
}
