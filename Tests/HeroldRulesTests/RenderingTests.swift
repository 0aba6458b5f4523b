import Foundation
import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

final class RenderingTests: XCTestCase {
    let typeIs = MatchCondition(path: "type", test: .oneOf(["contest.deadline"]))
    let now = Fixtures.date("2026-11-23T10:00:00Z")

    func emailPlan(_ files: [String: String], data: [String: JSONValue]) throws -> [Delivery] {
        let rules = [Rule(name: "r", match: [typeIs], send: [.email(to: ["gops@example.org"], template: "t")])]
        return try Fixtures.engine(rules: rules, files: files).plan(event: try Fixtures.event(data: data), now: now)
    }

    func email(_ files: [String: String], data: [String: JSONValue]) throws -> EmailContent {
        let plan = try emailPlan(files, data: data)
        guard plan.count == 1, case .email(let mail)? = plan[0].payload else {
            XCTFail("expected one email, got \(plan.map { ($0.state, $0.reason) })")
            throw CancellationError()
        }
        return mail
    }

    func testTextTemplatesAreNotHTMLEscaped() throws {
        let title = #"Tom & Jerry <b>"Przeciw przemocy"</b> 'x'"#
        let mail = try email(["t/subject.mustache": "{{data.title}}", "t/text.mustache": "A: {{data.title}}\nB: {{{data.title}}}\nC: {{&data.title}}\n"],
                             data: ["title": .string(title)])
        XCTAssertEqual(mail.subject, title)
        XCTAssertEqual(mail.text, "A: \(title)\nB: \(title)\nC: \(title)\n")
    }

    func testTemplateLayoutIsKept() throws {
        let text = "\nSzanowni Państwo,\n{{#data.items}}\n- {{.}}\n{{/data.items}}\nKoniec\n"
        let mail = try email(["t/subject.mustache": "S\n", "t/text.mustache": text],
                             data: ["items": .array(["a", "b"])])
        XCTAssertEqual(mail.subject, "S")
        XCTAssertEqual(mail.text, "\nSzanowni Państwo,\n- a\n- b\nKoniec\n")
    }

    func testHelpersInLoopsAndNested() throws {
        let text = "{{#data.events}}{{pl_data_i_godzina(when)}}{{^last()}}; {{/last()}}{{/data.events}}|{{pl_laureaci(count(data.events))}}|{{pl_lista(data.events)}}|{{pl_lista(data.orgs)}}|{{pl_godzina(data.events.0.when)}}|{{pl_dzien_tygodnia(data.events.1.when)}}"
        let events: JSONValue = .array([
            .object(["name": "Gala", "when": "2026-11-21T08:00:00+01:00"]),
            .object(["name": "Konferencja", "when": "2026-12-15"]),
        ])
        let mail = try email(["t/subject.mustache": "S", "t/text.mustache": text],
                             data: ["events": events, "orgs": .array(["ROPS", "KWP", "MOPS"])])
        XCTAssertEqual(mail.text, "sobota, 21 listopada 2026 r., 8:00; wtorek, 15 grudnia 2026 r.|2 laureaci|Gala i Konferencja|ROPS, KWP i MOPS|8:00|wtorek")
    }

    func testHelperOnABadValueHoldsTheDelivery() throws {
        let plan = try emailPlan(["t/subject.mustache": "Termin {{pl_data(data.deadline)}}", "t/text.mustache": "x"],
                                 data: ["deadline": "po świętach"])
        XCTAssertEqual(plan.count, 1)
        XCTAssertEqual(plan[0].state, .held)
        XCTAssertNil(plan[0].payload)
        let reason = try XCTUnwrap(plan[0].reason)
        XCTAssertTrue(reason.contains("t/subject.mustache"), reason)
        XCTAssertTrue(reason.contains("pl_data"), reason)
        XCTAssertTrue(reason.contains("po świętach"), reason)
    }

    func testEmptySubjectOrBodyAndMultiLineSubjectAreHeld() throws {
        let cases: [([String: String], [String: JSONValue], String)] = [
            (["t/subject.mustache": "  {{data.missing}} \n", "t/text.mustache": "x"], [:], "subject rendered empty"),
            (["t/subject.mustache": "Temat", "t/text.mustache": "{{data.missing}}\n\n"], [:], "text rendered empty"),
            (["t/subject.mustache": "Temat {{data.title}}", "t/text.mustache": "x"], ["title": "a\r\nBcc: x@y.pl"], "line break"),
        ]
        for (files, data, expected) in cases {
            let plan = try emailPlan(files, data: data)
            XCTAssertEqual(plan.map(\.state), [.held])
            XCTAssertNil(plan.first?.payload)
            XCTAssertTrue(plan.first?.reason?.contains(expected) ?? false, "\(String(describing: plan.first?.reason))")
        }
    }

    func testSubjectIsTrimmed() throws {
        let mail = try email(["t/subject.mustache": "   Temat {{data.x}}  \n", "t/text.mustache": "x"], data: ["x": "1"])
        XCTAssertEqual(mail.subject, "Temat 1")
    }

    func webhookPlan(_ body: String, data: [String: JSONValue]) throws -> [Delivery] {
        let rules = [Rule(name: "r", match: [typeIs], send: [.webhook(endpoint: "partnerzy-hub", template: "hook")])]
        return try Fixtures.engine(rules: rules, files: ["hook/body.json.mustache": body])
            .plan(event: try Fixtures.event(data: data), now: now)
    }

    func testJSONBodyEscapesHostileValuesAndStaysValid() throws {
        let hostile = "He said \"hi\" \\ back\nslash / tab\t</script><script>alert(1)</script> & ąęść 🎉 \u{1} \u{2028}"
        let body = #"{"name": "{{data.name}}", "triple": "{{{data.name}}}", "n": {{data.n}}, "event": "{{event.id}}", "list": "{{data.list}}"}"#
        let plan = try webhookPlan(body, data: ["name": .string(hostile), "n": .int(42), "list": .array(["a\"b"])])
        XCTAssertEqual(plan.map(\.state), [.pending], "\(plan.map(\.reason))")
        guard case .webhook(let hook)? = plan.first?.payload else { return XCTFail("no webhook") }
        XCTAssertEqual(hook.contentType, "application/json")
        XCTAssertFalse(String(decoding: hook.body, as: UTF8.self).contains("</script>"))
        let decoded = try JSONDecoder().decode([String: JSONValue].self, from: hook.body)
        XCTAssertEqual(decoded["name"], .string(hostile))
        XCTAssertEqual(decoded["triple"], .string(hostile))
        XCTAssertEqual(decoded["n"], .int(42))
        XCTAssertEqual(decoded["event"], "e-1")
        XCTAssertEqual(decoded["list"], .string(#"["a\"b"]"#))
    }

    func testJSONBodyThatIsNotJSONIsHeld() throws {
        // A value placed outside quotes cannot produce valid JSON from a string.
        let plan = try webhookPlan(#"{"name": {{data.name}}}"#, data: ["name": "x\", \"admin\": true, \"y\": \"z"])
        XCTAssertEqual(plan.map(\.state), [.held])
        XCTAssertNil(plan.first?.payload)
        XCTAssertTrue(plan.first?.reason?.contains("hook/body.json.mustache") ?? false)
        XCTAssertTrue(plan.first?.reason?.contains("not valid JSON") ?? false)
    }

    func testMissingTemplateIsHeld() throws {
        let config = Fixtures.config(rules: [Rule(name: "r", match: [typeIs], send: [.email(to: ["gops@example.org"], template: "brak")])])
        let plan = RuleEngine(config: config, templates: TemplateSet()).plan(event: try Fixtures.event(), now: now)
        XCTAssertEqual(plan.map(\.state), [.held])
        XCTAssertTrue(plan.first?.reason?.contains("brak") ?? false)
    }

    func testContextHoldsEventRecipientAndRule() throws {
        let mail = try email(["t/subject.mustache": "{{event.type}} {{event.id}}",
                              "t/text.mustache": "{{event.source}}|{{event.subject}}|{{recipient.address}}|{{rule.name}}|{{pl_data(event.time)}}"],
                             data: [:])
        XCTAssertEqual(mail.subject, "contest.deadline e-1")
        XCTAssertEqual(mail.text, "https://rops.example.org/konkursy||gops@example.org|r|")
        let rules = [Rule(name: "r", match: [typeIs], send: [.email(to: ["gops@example.org"], template: "t")])]
        let engine = try Fixtures.engine(rules: rules, files: ["t/subject.mustache": "S", "t/text.mustache": "{{pl_data_i_godzina(event.time)}}"])
        let plan = engine.plan(event: try Fixtures.event(extra: ["time": "2026-11-21T07:00:00Z"]), now: now)
        guard case .email(let timed)? = plan.first?.payload else { return XCTFail("no email") }
        XCTAssertEqual(timed.text, "sobota, 21 listopada 2026 r., 8:00")
    }
}

final class HTMLRenderingTests: XCTestCase {
    func testHTMLTemplateEscapesValues() throws {
        let rules = [Rule(name: "r", match: [], send: [.email(to: ["gops@example.org"], template: "t")])]
        let config = Fixtures.config(rules: rules)
        let set = try TemplateSet.compile(config: config, files: [
            "t/subject.mustache": "S", "t/text.mustache": "{{data.x}}", "t/html.mustache": "<p>{{data.x}}</p>",
        ])
        let email = try XCTUnwrap(set.emails["t"])
        let context = TemplateContext(event: try Fixtures.event(data: ["x": "<b>A & B</b>"]), rule: "r",
                                      recipient: ["address": "gops@example.org"], reminder: nil, reminderField: nil,
                                      timeZone: Fixtures.warsaw)
        XCTAssertEqual(try RuleEngine.renderHTML(email, context: context), "<p>&lt;b&gt;A &amp; B&lt;/b&gt;</p>")
        XCTAssertEqual(try RuleEngine.renderEmail(email, context: context).text, "<b>A & B</b>")
    }
}
