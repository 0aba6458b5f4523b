import Foundation
import XCTest

/// Base for tests that run the built binary: a `TestSite` with its own SMTP and HTTP sinks,
/// and everything started removed or stopped when the test ends.
class SiteTestCase: XCTestCase {
    /// Run in reverse order by `tearDown`: stop daemons, then remove folders.
    var cleanup: [() -> Void] = []

    override func tearDown() {
        cleanup.reversed().forEach { $0() }
        cleanup = []
        super.tearDown()
    }

    /// A site whose config points at a fresh aiosmtpd sink and a fresh HTTP sink.
    func makeSite(_ name: String, smtpArguments: [String] = [], httpArguments: [String] = [],
                  extraYAML: String = "") throws -> (TestSite, SinkServer, SinkServer) {
        let scratch = try makeTemporaryDirectory("\(name)-sinks")
        let smtp = try SinkServer(script: "smtp_sink.py", directory: scratch.appendingPathComponent("mail"),
                                  extraArguments: smtpArguments)
        let http = try SinkServer(script: "http_sink.py", directory: scratch.appendingPathComponent("http"),
                                  extraArguments: httpArguments)
        let site = try TestSite(name: name, smtpPort: smtp.port, httpPort: http.port, extraYAML: extraYAML)
        cleanup.append { site.remove(); try? FileManager.default.removeItem(at: scratch) }
        return (site, smtp, http)
    }

    /// A private CA and a server certificate for 127.0.0.1 (Tests/Support/make_test_ca.sh),
    /// removed when the test ends.
    func makeTestCA(_ name: String = "ca") throws -> URL {
        let folder = try makeTemporaryDirectory(name)
        cleanup.append { try? FileManager.default.removeItem(at: folder) }
        let script = repositoryRoot.appendingPathComponent("Tests/Support/make_test_ca.sh").path
        let made = try BackgroundProcess(executable: URL(fileURLWithPath: "/bin/sh"), arguments: [script, folder.path])
        guard made.waitForExit(timeout: 60) == 0 else { throw HarnessError("make_test_ca.sh failed: \(made.output)") }
        return folder
    }

    /// A site body with a relay as institutions run it (STARTTLS, the test CA's `ca_file`, an
    /// EHLO name, AUTH as `rops` with `secrets/smtp-haslo`) and one email rule.
    func relaySiteBody(port: Int, ca: URL, tls: String = "starttls", host: String = "127.0.0.1") -> String {
        """
        smtp:
          url: smtp://\(host):\(port)
          tls: \(tls)
          ca_file: \(ca.appendingPathComponent("ca.pem").path)
          helo: herold.rops.example.org
          username: rops
          password_file: secrets/smtp-haslo
          from: "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>"
          connect_timeout: 5
          timeout: 10
        recipients:
          partners: [gops@example.org]
        rules:
          - name: oglos-laureatow
            match: { type: laureates.announced }
            send:
              - email: { to: [partners], template: laureaci }
        """
    }
}
