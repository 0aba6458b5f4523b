import Foundation
import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

/// What the rules put into an email beyond subject and text: HTML, attachments, personal data.
final class MessageContentTests: XCTestCase {
    var folder: URL!
    var roots: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herold-attach-\(UUID().uuidString)")
        roots = folder.appendingPathComponent("zalaczniki")
        try FileManager.default.createDirectory(at: roots.appendingPathComponent("gala"), withIntermediateDirectories: true)
        try Data("%PDF-1.4 program".utf8).write(to: roots.appendingPathComponent("program-gali.pdf"))
        try Data("regulamin".utf8).write(to: roots.appendingPathComponent("gala/regulamin konkursu – łódź.pdf"))
        try Data("tajne".utf8).write(to: folder.appendingPathComponent("tajne.txt"))
        try FileManager.default.createSymbolicLink(atPath: roots.appendingPathComponent("skrot.txt").path,
                                                   withDestinationPath: folder.appendingPathComponent("tajne.txt").path)
        try FileManager.default.createSymbolicLink(atPath: roots.appendingPathComponent("program-link.pdf").path,
                                                   withDestinationPath: "program-gali.pdf")
        try Data(count: 2048).write(to: roots.appendingPathComponent("duzy.pdf"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    static let rule: Rule = {
        var rule = Rule(name: "r", match: [MatchCondition(path: "type", test: .oneOf(["ceremony.scheduled"]))],
                        send: [.email(to: ["partners"], template: "t")])
        rule.emailOptions = [0: EmailOptions(attach: ["program-gali.pdf"], listUnsubscribe: "<mailto:wypisz@example.org>")]
        return rule
    }()

    func engine(files: [String: String] = Fixtures.simpleEmail, maxBytes: Int = 1024,
                recipients: [String: [String]] = ["partners": ["\"Dyrektor\" <dyrektor@example.org>", "kwp@example.org"]],
                details: [String: RecipientDetails] = [:]) throws -> RuleEngine {
        var config = Fixtures.config(rules: [Self.rule], recipients: recipients)
        config.attachments = AttachmentsConfig(roots: [roots], maxBytes: maxBytes)
        config.recipientDetails = details
        config.smtp?.replyTo = Mailbox(displayName: "Sekretariat", address: "sekretariat@example.org")
        return RuleEngine(config: config, templates: try TemplateSet.compile(config: config, files: files))
    }

    func plan(_ engine: RuleEngine, data: [String: JSONValue] = ["contest": "Gala"]) throws -> [Delivery] {
        engine.plan(event: try Fixtures.event(type: "ceremony.scheduled", data: data), now: Fixtures.date("2026-11-23T12:00:00+01:00"))
    }

    func email(_ delivery: Delivery?) throws -> EmailContent {
        // No email where one was expected is a failure of the test, never a skip.
        guard case .email(let mail)? = delivery?.payload else {
            return try XCTUnwrap(nil, "no email: \(delivery?.reason ?? "no delivery")")
        }
        return mail
    }

    func testRuleAndEventAttachmentsAreResolvedInsideTheRoot() throws {
        let deliveries = try plan(engine(), data: ["contest": "Gala", "attachments": .array(["gala/regulamin konkursu – łódź.pdf", "program-link.pdf"])])
        XCTAssertEqual(deliveries.map(\.state), [.pending, .pending])
        let mail = try email(deliveries.first)
        XCTAssertEqual(mail.attachments.map(\.name), ["program-gali.pdf", "regulamin konkursu – łódź.pdf", "program-link.pdf"])
        let real = URL(fileURLWithPath: roots.path).resolvingSymlinksInPath().path
        XCTAssertEqual(mail.attachments[0].path, real + "/program-gali.pdf")
        // A link inside the root is followed to its target, which is inside too.
        XCTAssertEqual(mail.attachments[2].path, real + "/program-gali.pdf")
        XCTAssertEqual(mail.listUnsubscribe, "<mailto:wypisz@example.org>")
        XCTAssertEqual(mail.replyTo, "Sekretariat <sekretariat@example.org>")
    }

    func testPathsOutsideTheRootsAreRefusedAndHeld() throws {
        for (path, expected) in [
            ("../tajne.txt", "\"..\""), ("gala/../../tajne.txt", "\"..\""),
            (folder.appendingPathComponent("tajne.txt").path, "absolute"),
            ("skrot.txt", "leads outside"), ("brak.pdf", "missing"), ("duzy.pdf", "over attachments.max_bytes"),
            ("gala", "not a regular file"),
        ] {
            let deliveries = try plan(engine(), data: ["attachments": .array([.string(path)])])
            XCTAssertEqual(deliveries.map(\.state), [.held, .held], path)
            let reason = deliveries.first?.reason ?? ""
            XCTAssertTrue(reason.contains(expected), "\(path): \(reason)")
            XCTAssertNil(deliveries.first?.payload)
        }
        let notAList = try plan(engine(), data: ["attachments": .int(5)])
        XCTAssertEqual(notAList.first?.state, .held)
    }

    func testHTMLIsRenderedEscapedNextToTheText() throws {
        var files = Fixtures.simpleEmail
        files["t/html.mustache"] = "<p>{{recipient.salutation}}: {{data.contest}}</p><a href=\"{{data.url}}\">link</a>\n"
        let hostile = "<script>alert('x')</script> & \"cytat\""
        let deliveries = try plan(engine(files: files, details: [
            "dyrektor@example.org": RecipientDetails(name: "Dyrektor", salutation: "Szanowna Pani <Dyrektor>"),
        ]), data: ["contest": .string(hostile), "url": "javascript:\"><img src=x onerror=alert(1)>"])
        let mail = try email(deliveries.first)
        let html = try XCTUnwrap(mail.html)
        XCTAssertFalse(html.contains("<script>"), html)
        XCTAssertFalse(html.contains("<img"), html)
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;cytat&quot;")
            || html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;cytat&quot;"), html)
        XCTAssertTrue(html.contains("Szanowna Pani &lt;Dyrektor&gt;"), html)
        // The text part is plain text: the value as written.
        XCTAssertEqual(mail.text, "Treść \(hostile)\n")
        // Without html.mustache there is no HTML part.
        XCTAssertNil(try email(plan(engine()).first).html)
    }

    func testRecipientDetailsReachTheTemplate() throws {
        var files = Fixtures.simpleEmail
        files["t/text.mustache"] = "{{#recipient.salutation}}{{recipient.salutation}},{{/recipient.salutation}}{{^recipient.salutation}}Szanowni Państwo,{{/recipient.salutation}} {{recipient.institution}}|{{recipient.name}}|{{recipient.address}}\n"
        let deliveries = try plan(engine(files: files, details: [
            "dyrektor@example.org": RecipientDetails(name: "Dyrektor", institution: "MOPS w Łodzi", salutation: "Szanowna Pani Dyrektor"),
        ]))
        XCTAssertEqual(try email(deliveries[0]).text, "Szanowna Pani Dyrektor, MOPS w Łodzi|Dyrektor|dyrektor@example.org\n")
        XCTAssertEqual(try email(deliveries[0]).to, "Dyrektor <dyrektor@example.org>")
        XCTAssertEqual(try email(deliveries[1]).text, "Szanowni Państwo, ||kwp@example.org\n")
    }

    func testOldJournalRowsDecodeWithoutTheNewFields() throws {
        let old = Data(#"{"from":"a@example.org","to":"b@example.org","subject":"S","text":"T"}"#.utf8)
        let content = try JSONDecoder().decode(EmailContent.self, from: old)
        XCTAssertNil(content.html)
        XCTAssertEqual(content.attachments, [])
        XCTAssertNil(content.listUnsubscribe)
        let full = EmailContent(from: "a@example.org", to: "b@example.org", subject: "S", text: "T", html: "<p>T</p>",
                                attachments: [AttachmentRef(name: "ż.pdf", path: "/x/ż.pdf")], replyTo: "c@example.org")
        XCTAssertEqual(try JSONDecoder().decode(EmailContent.self, from: JSONEncoder().encode(full)), full)
    }

    func testRecipientsNamedByTheEventCarryTheirData() throws {
        var rule = Rule(name: "r", match: [MatchCondition(path: "type", test: .oneOf(["ceremony.scheduled"]))],
                        send: [.email(to: ["data.recipients", "partners"], template: "t")])
        rule.emailOptions = [:]
        var config = Fixtures.config(rules: [rule], recipients: ["partners": ["kwp@example.org"]])
        config.recipientDetails = ["kwp@example.org": RecipientDetails(salutation: "Szanowny Panie Komendancie")]
        let files = ["t/subject.mustache": "Zaproszenie\n",
                     "t/text.mustache": "{{#recipient.salutation}}{{recipient.salutation}}{{/recipient.salutation}}{{^recipient.salutation}}Szanowni Państwo{{/recipient.salutation}} ({{recipient.institution}})\n"]
        let engine = RuleEngine(config: config, templates: try TemplateSet.compile(config: config, files: files))
        let event = try Fixtures.event(type: "ceremony.scheduled", data: ["recipients": .array([
            .object(["address": "dyrektor@mops.example.org", "name": "Anna Żak", "institution": "MOPS w Łodzi",
                     "salutation": "Szanowna Pani Dyrektor"]),
            "Jan Kos <jan@example.org>",
            "KWP <kwp@example.org>",  // also a partner: sent once, with the list data
            .object(["name": "bez adresu"]),
        ])])
        let plan = engine.plan(event: event, now: Fixtures.date("2026-11-23T12:00:00+01:00"))
        XCTAssertEqual(plan.map(\.recipient), ["dyrektor@mops.example.org", "jan@example.org", "kwp@example.org", "data.recipients"])
        XCTAssertEqual(try email(plan[0]).text, "Szanowna Pani Dyrektor (MOPS w Łodzi)\n")
        XCTAssertEqual(try email(plan[0]).to, "Anna Żak <dyrektor@mops.example.org>")
        XCTAssertEqual(try email(plan[1]).text, "Szanowni Państwo ()\n")
        XCTAssertEqual(try email(plan[2]).text, "Szanowny Panie Komendancie ()\n")
        XCTAssertEqual(plan[3].state, .held)
        XCTAssertTrue(plan[3].reason?.contains("no \"address\"") == true, plan[3].reason ?? "")

        let without = engine.plan(event: try Fixtures.event(type: "ceremony.scheduled"), now: Fixtures.date("2026-11-23T12:00:00+01:00"))
        XCTAssertEqual(without.map(\.state), [.held, .pending])
        XCTAssertTrue(without[0].reason?.contains("has no data.recipients") == true)
    }
}
