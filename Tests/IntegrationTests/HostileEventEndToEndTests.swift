import Foundation
import XCTest

/// Events a careless or hostile producer writes, next to good ones, through the real binary:
/// herold keeps running, the good ones go out, the bad ones are held with their reason.
final class HostileEventEndToEndTests: SiteTestCase {
    func event(_ id: String, type: String, data: String) -> String {
        """
        {"specversion":"1.0","id":"\(id)","source":"https://cms.example.org","type":"\(type)",
         "datacontenttype":"application/json","data":\(data)}
        """
    }

    func testOverflowingNumbersAndPoisonRecipientsAreHeldWhileGoodEventsAreSent() throws {
        let dir = try makeTemporaryDirectory("hostile-sinks")
        cleanup.append { try? FileManager.default.removeItem(at: dir) }
        let smtp = try SinkServer(script: "smtp_sink.py", directory: dir)
        let site = try FaultSite(name: "hostile", body: """
            smtp:
              url: smtp://127.0.0.1:\(smtp.port)
              tls: none
              from: "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>"
            recipients:
              partners: [ok@example.org]
            rules:
              - name: licznik
                match: { type: count.test }
                send:
                  - email: { to: [partners], template: licznik }
              - name: zaproszenia
                match: { type: invite.test }
                send:
                  - email:
                      to: [data.recipients]
                      template: licznik
                      max_recipients: 3
                      allowed_domains: [example.org]
            """)
        cleanup.append { site.remove() }
        let templates = site.site.root.appendingPathComponent("templates/licznik")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        try "Termin {{event.id}}\n".write(to: templates.appendingPathComponent("subject.mustache"), atomically: true, encoding: .utf8)
        try "Termin mija {{pl_za_ile(data.n)}}, kolejny numer {{plusone(data.m)}}.\n"
            .write(to: templates.appendingPathComponent("text.mustache"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try runHerold(["check", "--config", site.configPath]).status, 0)

        let daemon = try site.site.startDaemon(notify: try NotifySocket(directory: site.site.root))
        cleanup.append { daemon.stop() }
        try site.enqueue(event("za-ile-min", type: "count.test", data: #"{"n":"-9223372036854775808","m":1}"#))
        try site.enqueue(event("plusone-max", type: "count.test", data: #"{"n":1,"m":9223372036854775807}"#))
        try site.enqueue(event("dobre", type: "count.test", data: #"{"n":"5","m":1}"#))
        try site.enqueue(event("trucizna", type: "invite.test", data: #"{"n":1,"m":1,"recipients":[{"name":"A"},null]}"#))
        try site.enqueue(event("tlum", type: "invite.test",
                               data: #"{"n":1,"m":1,"recipients":["a@example.org","b@example.org","c@example.org","d@example.org"]}"#))
        try site.enqueue(event("mieszane", type: "invite.test",
                               data: #"{"n":2,"m":1,"recipients":["Gość <gosc@mops.example.org>","obcy@evil.example.com"]}"#))

        XCTAssertTrue(eventually(timeout: 30) { smtp.records().count >= 2 && site.site.newFiles().isEmpty }, daemon.output)
        XCTAssertTrue(try eventually { try site.counts()["held"] == 5 }, "\((try? site.status()) ?? [:])\n\(daemon.output)")
        XCTAssertTrue(daemon.process.isRunning, "herold died:\n\(daemon.output)")

        let mails = smtp.records()
        XCTAssertEqual(mails.count, 2, "\(mails)")
        XCTAssertEqual(smtp.mails(to: "ok@example.org").first?["body_lf"] as? String, "Termin mija za 5 dni, kolejny numer 2.\n")
        XCTAssertEqual(smtp.mails(to: "gosc@mops.example.org").first?["body_lf"] as? String, "Termin mija za 2 dni, kolejny numer 2.\n")

        let problems = (try site.status()["problems"] as? [[String: Any]]) ?? []
        let reasons = Dictionary(problems.map { (($0["event_id"] as? String ?? "") + " " + ($0["recipient"] as? String ?? ""),
                                                 $0["reason"] as? String ?? "") }, uniquingKeysWith: { a, b in a + " | " + b })
        XCTAssertEqual(reasons["za-ile-min ok@example.org"],
                       "template licznik/text.mustache: pl_za_ile(…): the number -9223372036854775808 is out of range (whole numbers from -999999999999999 to 999999999999999)")
        XCTAssertEqual(reasons["plusone-max ok@example.org"],
                       "template licznik/text.mustache: plusone(…): the number 9223372036854775807 is out of range (whole numbers from -999999999999999 to 999999999999999)")
        XCTAssertEqual(reasons["trucizna data.recipients"],
                       "2 entries of data.recipients cannot be used: data.recipients[0] has no \"address\" (a bare name@domain); data.recipients[1] is null, neither an address nor a map")
        XCTAssertEqual(reasons["tlum data.recipients"],
                       "the event names 4 recipients in data.recipients; max_recipients is 3, so none of them is sent")
        XCTAssertEqual(reasons["mieszane obcy@evil.example.com"],
                       "recipient obcy@evil.example.com (data.recipients[1]) is outside allowed_domains (example.org); not sent")
        XCTAssertEqual(problems.count, 5, "\(problems)")
        XCTAssertTrue(problems.allSatisfy { $0["state"] as? String == "held" }, "\(problems)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: site.site.rejected.path).count, 0,
                       "every file was ingested, none rejected or left behind")
    }
}
