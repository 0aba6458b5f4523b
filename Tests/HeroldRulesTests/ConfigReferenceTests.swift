import Foundation
import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

/// The shipped herold.yaml's invitation rule, and template errors that point back into herold.yaml.
final class ConfigReferenceTests: XCTestCase {
    func testAMissingTemplateIsReportedAtTheTemplateKeyThatNamesIt() throws {
        let file = "/srv/herold/herold.yaml"
        let config = try ConfigLoader.load(text: """
            smtp:
              outbox: ./outbox
              from: "Powiadomienia <powiadomienia@example.org>"
            recipients:
              partners: [rops@example.org]
            rules:
              - name: ogloszenie
                match: { type: t }
                send:
                  - email: { to: [partners], template: brak }
              - name: drugie
                match: { type: u }
                send:
                  - email:
                      to: [partners]
                      template: brak
            """, file: file, environment: [:])
        var found: [ConfigIssue] = []
        do {
            _ = try TemplateSet.compile(config: config, files: ["brak/text.mustache": "Treść\n"])
            XCTFail("a missing subject.mustache must be refused")
        } catch {
            found = error.issues
        }
        XCTAssertEqual(found.map(\.file), [file, file])
        XCTAssertEqual(found.map(\.line), [10, 16])
        XCTAssertEqual(found.map(\.column), [44, 21])
        XCTAssertEqual(found[0].message, "rules[0].send[0].email.template: rule \"ogloszenie\" uses template \"brak\", but /srv/herold/templates/brak/subject.mustache is missing")
        XCTAssertEqual(found[1].fix, "create templates/brak/subject.mustache, or correct the template name")
    }

    func testTheExampleInvitationRuleKeepsToItsDomainsAndLimit() throws {
        let config = try ConfigLoader.load(path: Fixtures.repo.appendingPathComponent("Config/herold.yaml").path, environment: [:])
        let engine = try RuleEngine(config: config)
        let gala = try CloudEventParser.parse(Data(contentsOf: Fixtures.repo.appendingPathComponent("Config/events/uroczystosc-gala.json")))[0]
        func invitations(_ recipients: [JSONValue]) throws -> [Delivery] {
            guard case .object(var data)? = gala.data else { XCTFail("the gala event has no data"); return [] }
            data["recipients"] = .array(recipients)
            let event = try Fixtures.event(type: "ceremony.invitations", id: "zaproszenia-1", data: data)
            return engine.plan(event: event, now: Fixtures.date("2026-11-23T12:00:00+01:00"))
        }
        let plan = try invitations([
            .object(["address": "dyrektor@mops-krakow.example.org", "name": "Anna Nowak", "salutation": "Szanowna Pani Dyrektor"]),
            "Jan Kowalski <jan.kowalski@KWP-Krakow.example.org>",
            "obcy@gmail.example.com",
        ])
        XCTAssertEqual(plan.map(\.state), [.pending, .pending, .held])
        guard case .email(let mail)? = plan[0].payload else { return XCTFail(plan[0].reason ?? "no email") }
        XCTAssertEqual(mail.to, "Anna Nowak <dyrektor@mops-krakow.example.org>")
        XCTAssertEqual(mail.attachments.map(\.name), ["program-gali.pdf"])
        XCTAssertTrue(mail.text.hasPrefix("Szanowna Pani Dyrektor"), mail.text)
        XCTAssertEqual(plan[2].reason, "recipient obcy@gmail.example.com (data.recipients[2]) is outside allowed_domains (rops.example.org, mops-krakow.example.org, kwp-krakow.example.org); not sent")
        let crowd = try invitations((0..<21).map { .string("osoba\($0)@rops.example.org") })
        XCTAssertEqual(crowd.map(\.state), [.held])
        XCTAssertEqual(crowd[0].reason, "the event names 21 recipients in data.recipients; max_recipients is 20, so none of them is sent")
    }
}
