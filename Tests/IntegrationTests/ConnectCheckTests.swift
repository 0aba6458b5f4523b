import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `herold check --connect` and `serve --log-level debug`, with the built binary against a relay
/// as institutions run them (STARTTLS, a private CA, AUTH), a dead port and the HTTP sink.
final class ConnectCheckTests: SiteTestCase {
    /// A relay with STARTTLS and AUTH, the HTTP sink as `partnerzy-hub`, and `martwy` on a port nobody listens on.
    private func site(relayPort: Int, ca: URL, httpPort: Int, password: String) throws -> FaultSite {
        let site = try FaultSite(name: "connect", body: """
            smtp:
              url: smtp://127.0.0.1:\(relayPort)
              tls: starttls
              ca_file: \(ca.appendingPathComponent("ca.pem").path)
              username: rops
              password_file: secrets/smtp-haslo
              from: "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>"
              connect_timeout: 5
              timeout: 10
            webhooks:
              partnerzy-hub:
                url: http://127.0.0.1:\(httpPort)/hook
                secret_file: secrets/hub.whsec
                allow_private: true
            recipients:
              partners: [gops@example.org]
            rules:
              - name: oglos-laureatow
                match: { type: laureates.announced }
                send:
                  - email: { to: [partners], template: laureaci }
                  - webhook: { endpoint: partnerzy-hub }
            """)
        cleanup.append { site.remove() }
        try "\(password)\n".write(to: site.site.root.appendingPathComponent("secrets/smtp-haslo"), atomically: true, encoding: .utf8)
        return site
    }

    private func relay(_ ca: URL, directory: URL) throws -> SinkServer {
        try SinkServer(script: "smtp_sink.py", directory: directory, extraArguments: [
            "--starttls", ca.appendingPathComponent("server.pem").path, ca.appendingPathComponent("server.key").path,
            "--auth", "rops:tajne-hasło", "--auth-require-tls",
        ])
    }

    /// A port on 127.0.0.1 that nothing listens on (bound, then closed).
    private func deadPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw HarnessError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func line(_ output: String, startingWith prefix: String) -> String {
        output.split(separator: "\n").map(String.init).first { $0.hasPrefix(prefix) } ?? "(no line for \(prefix) in:\n\(output))"
    }

    func testAWorkingRelayAndEndpointSayOKAndNothingIsSent() throws {
        let ca = try makeTestCA("connect-ca")
        let scratch = try makeTemporaryDirectory("connect-ok")
        cleanup.append { try? FileManager.default.removeItem(at: scratch) }
        let smtp = try relay(ca, directory: scratch.appendingPathComponent("mail"))
        let http = try SinkServer(script: "http_sink.py", directory: scratch.appendingPathComponent("http"))
        let site = try site(relayPort: smtp.port, ca: ca, httpPort: http.port, password: "tajne-hasło")

        let result = try runHerold(["check", "--connect", "--config", site.configPath])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(line(result.stdout, startingWith: "smtp "),
                       "smtp smtp://127.0.0.1:\(smtp.port)  OK: TLS 1.3, certificate CN=localhost, logged in as rops")
        XCTAssertEqual(line(result.stdout, startingWith: "webhook "),
                       "webhook partnerzy-hub http://127.0.0.1:\(http.port)/hook  OK: connected to 127.0.0.1, plain HTTP (no TLS)")
        // It talked (STARTTLS, then AUTH), and sent nothing: no MAIL FROM, no HTTP request.
        let events = (try? String(contentsOf: smtp.directory.appendingPathComponent("events.jsonl"), encoding: .utf8)) ?? ""
        XCTAssertTrue(events.contains("\"event\": \"AUTH\", \"user\": \"rops\", \"ok\": true, \"tls\": true"), events)
        XCTAssertFalse(events.contains("\"MAIL\""), events)
        XCTAssertEqual(smtp.records().count, 0)
        XCTAssertEqual(http.records().count, 0)
    }

    func testAWrongPasswordAndNothingListeningFailWithTheReasonAndExit69() throws {
        let ca = try makeTestCA("connect-ca")
        let scratch = try makeTemporaryDirectory("connect-bad")
        cleanup.append { try? FileManager.default.removeItem(at: scratch) }
        let smtp = try relay(ca, directory: scratch.appendingPathComponent("mail"))
        let dead = try deadPort()
        let site = try site(relayPort: smtp.port, ca: ca, httpPort: dead, password: "stare-hasło")

        let result = try runHerold(["check", "--connect", "--config", site.configPath])
        XCTAssertEqual(result.status, 69, result.stdout + result.stderr)
        XCTAssertEqual(line(result.stdout, startingWith: "smtp "),
                       "smtp smtp://127.0.0.1:\(smtp.port)  FAILED: login refused (535 5.7.8 Authentication credentials invalid)")
        let webhook = line(result.stdout, startingWith: "webhook ")
        XCTAssertTrue(webhook.hasPrefix("webhook partnerzy-hub http://127.0.0.1:\(dead)/hook  FAILED: cannot connect: connection refused"), webhook)
        XCTAssertFalse((result.stdout + result.stderr).contains("stare-hasło"), "the password stays secret")

        // The relay gone too: its line says it cannot connect.
        let nobody = site.site.root.appendingPathComponent("herold.yaml")
        let yaml = try String(contentsOf: nobody, encoding: .utf8).replacingOccurrences(of: ":\(smtp.port)", with: ":\(dead)")
        try yaml.write(to: nobody, atomically: true, encoding: .utf8)
        let gone = try runHerold(["check", "--connect", "--config", site.configPath])
        XCTAssertEqual(gone.status, 69)
        XCTAssertTrue(line(gone.stdout, startingWith: "smtp ").hasPrefix("smtp smtp://127.0.0.1:\(dead)  FAILED: cannot connect: connection refused"),
                      gone.stdout)
    }

    func testARelayWithoutAUTHIsNoLogin() throws {
        let scratch = try makeTemporaryDirectory("connect-noauth")
        cleanup.append { try? FileManager.default.removeItem(at: scratch) }
        let smtp = try SinkServer(script: "smtp_sink.py", directory: scratch.appendingPathComponent("mail"), extraArguments: ["--no-auth"])
        let http = try SinkServer(script: "http_sink.py", directory: scratch.appendingPathComponent("http"))
        let ca = try makeTestCA("connect-ca")
        let site = try site(relayPort: smtp.port, ca: ca, httpPort: http.port, password: "tajne-hasło")
        let yaml = try String(contentsOfFile: site.configPath, encoding: .utf8)
            .replacingOccurrences(of: "tls: starttls", with: "tls: none")
            .replacingOccurrences(of: "  ca_file: \(ca.appendingPathComponent("ca.pem").path)\n", with: "")
        try yaml.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let result = try runHerold(["check", "--connect", "--config", site.configPath])
        XCTAssertEqual(result.status, 69, result.stdout + result.stderr)
        XCTAssertEqual(line(result.stdout, startingWith: "smtp "),
                       "smtp smtp://127.0.0.1:\(smtp.port)  FAILED: not logged in: the server offered no AUTH, and herold sends nothing without the login")
        XCTAssertTrue(line(result.stdout, startingWith: "webhook ").contains("OK: connected to 127.0.0.1"), result.stdout)
    }

    /// At `debug`, the log shows the TLS version, the relay's certificate and its replies — and
    /// never the login.
    func testDebugLogShowsTLSVersionCertificateAndRepliesButNoSecret() throws {
        let ca = try makeTestCA("connect-ca")
        let scratch = try makeTemporaryDirectory("connect-debug")
        cleanup.append { try? FileManager.default.removeItem(at: scratch) }
        let smtp = try relay(ca, directory: scratch.appendingPathComponent("mail"))
        let http = try SinkServer(script: "http_sink.py", directory: scratch.appendingPathComponent("http"))
        let site = try site(relayPort: smtp.port, ca: ca, httpPort: http.port, password: "tajne-hasło")
        let notify = try NotifySocket(directory: site.site.root)
        let daemon = try BackgroundProcess(executable: heroldBinary,
                                           arguments: ["serve", "--config", site.configPath, "--log-level", "debug"],
                                           environment: ["NOTIFY_SOCKET": notify.path])
        cleanup.append { daemon.stop() }
        XCTAssertTrue(notify.waitFor("READY=1"), daemon.output)
        try site.enqueue(TestSite.laureatesEvent(id: "debug"))
        XCTAssertTrue(eventually(timeout: 20) { smtp.records().count == 1 }, daemon.output)
        XCTAssertTrue(eventually { daemon.output.contains("msg=delivered") && daemon.output.contains("250 OK") }, daemon.output)
        let log = daemon.output
        XCTAssertTrue(log.contains("msg=\"TLS connection\"") && log.contains("tls=\"TLSv1.3 / "), log)
        XCTAssertTrue(log.contains("msg=\"peer certificate\"") && log.contains("tls.subject=\"CN=localhost\""), log)
        XCTAssertTrue(log.contains("msg=\"smtp reply\"") && log.contains("smtp.reply=\"235 "), "the login's answer: \(log)")
        XCTAssertFalse(log.contains("tajne-hasło"), "the password in the log")
        let credentials = Data("\u{0}rops\u{0}tajne-hasło".utf8).base64EncodedString()
        XCTAssertFalse(log.contains(credentials) || log.contains("AUTH PLAIN "), "the login in the log")
        withExtendedLifetime(http) {}
    }

    func testAnUnknownLogLevelIsAUsageError() throws {
        let result = try runHerold(["serve", "--config", "/nonexistent/herold.yaml", "--log-level", "verbose"])
        XCTAssertEqual(result.status, 64, result.stderr)
        XCTAssertTrue(result.stderr.contains("verbose"), result.stderr)
    }
}
