import Crypto
import Foundation
import XCTest

/// An attachment checked at ingest and read at send time, after its folder was swapped for
/// a symbolic link to a folder of secrets: the real binary refuses it, the SMTP server never
/// gets the secret, and a message whose folder was left alone still goes out with its file.
final class AttachmentSwapEndToEndTests: SiteTestCase {
    func config(smtpPort: Int) -> String {
        """
        smtp:
          url: smtp://127.0.0.1:\(smtpPort)
          tls: none
          from: "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>"
          connect_timeout: 5
        attachments:
          roots: [./zalaczniki]
        recipients:
          partners: [ok@example.org]
        rules:
          - name: oglos-laureatow
            match: { type: laureates.announced }
            send:
              - email: { to: [partners], template: laureaci }
        """
    }

    func event(_ id: String, attachment: String) -> String {
        """
        {"specversion":"1.0","id":"\(id)","source":"https://cms.example.org","type":"laureates.announced",
         "datacontenttype":"application/json",
         "data":{"contest":"Gala","edition":"X","laureates":[],"attachments":["\(attachment)"]}}
        """
    }

    func testAFolderSwappedForALinkBeforeSendingMailsNoSecret() throws {
        let dir = try makeTemporaryDirectory("swap-sinks")
        cleanup.append { try? FileManager.default.removeItem(at: dir) }
        let smtp = try SinkServer(script: "smtp_sink.py", directory: dir)
        // First nothing listens on port 1, so both messages are deferred after ingest.
        let site = try FaultSite(name: "swap", body: config(smtpPort: 1))
        cleanup.append { site.remove() }
        let root = site.site.root
        let fm = FileManager.default
        let program = Data("%PDF-1.4 program gali".utf8)
        let other = Data("%PDF-1.4 regulamin".utf8)
        let secret = Data("SEKRET-haslo-smtp-\(UUID().uuidString)".utf8)
        try fm.createDirectory(at: root.appendingPathComponent("zalaczniki/docs"), withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent("credentials/docs"), withIntermediateDirectories: true)
        try program.write(to: root.appendingPathComponent("zalaczniki/docs/program.pdf"))
        try other.write(to: root.appendingPathComponent("zalaczniki/regulamin.pdf"))
        try secret.write(to: root.appendingPathComponent("credentials/docs/program.pdf"))

        var daemon = try site.site.startDaemon(notify: try NotifySocket(directory: root))
        cleanup.append { daemon.stop() }
        try site.enqueue(event("podmieniony", attachment: "docs/program.pdf"))
        try site.enqueue(event("nietkniety", attachment: "regulamin.pdf"))
        XCTAssertTrue(try eventually(timeout: 30) { try site.counts()["deferred"] == 2 }, "\((try? site.status()) ?? [:])\n\(daemon.output)")
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.output)

        // The producer's swap: the checked folder becomes a link to the secrets.
        try fm.moveItem(at: root.appendingPathComponent("zalaczniki/docs"), to: root.appendingPathComponent("docs-stare"))
        try fm.createSymbolicLink(at: root.appendingPathComponent("zalaczniki/docs"),
                                  withDestinationURL: root.appendingPathComponent("credentials/docs"))
        try site.write(body: config(smtpPort: smtp.port))
        let notifyDir = try makeTemporaryDirectory("swap-notify")
        cleanup.append { try? FileManager.default.removeItem(at: notifyDir) }
        let notify = try NotifySocket(directory: notifyDir)
        daemon = try site.site.startDaemon(notify: notify)

        XCTAssertTrue(try eventually(timeout: 30) {
            let counts = try site.counts()
            return counts["sent"] == 1 && counts["failed"] == 1
        }, "\((try? site.status()) ?? [:])\n\(daemon.output)")
        let problems = (try site.status()["problems"] as? [[String: Any]]) ?? []
        XCTAssertEqual(problems.count, 1, "\(problems)")
        XCTAssertEqual(problems.first?["event_id"] as? String, "podmieniony")
        let reason = problems.first?["reason"] as? String ?? ""
        XCTAssertTrue(reason.contains("attachment \"program.pdf\": \(root.path)/zalaczniki/docs is a symbolic link"), reason)

        let mails = smtp.records()
        XCTAssertEqual(mails.count, 1, "only the untouched message goes out")
        let parts = (mails.first?["parts"] as? [[String: Any]]) ?? []
        XCTAssertTrue(parts.contains { $0["sha256"] as? String == Self.sha256(other) && $0["filename"] as? String == "regulamin.pdf" },
                      "\(parts)")
        let received = try fm.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".eml") }
            .map { try Data(contentsOf: dir.appendingPathComponent($0)) }
        XCTAssertEqual(received.count, 1)
        for raw in received {
            let text = String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "")
            XCTAssertTrue(text.contains(other.base64EncodedString()), "the untouched file, base64-encoded")
            XCTAssertFalse(text.contains(secret.base64EncodedString()), "the secret went out base64-encoded")
            XCTAssertFalse(text.contains(String(decoding: secret, as: UTF8.self)), "the secret went out")
        }
        XCTAssertFalse(parts.contains { $0["sha256"] as? String == Self.sha256(secret) })
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
