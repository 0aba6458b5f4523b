import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

final class RecipientTests: XCTestCase {
    let typeIs = MatchCondition(path: "type", test: .oneOf(["contest.deadline"]))
    let now = Fixtures.date("2026-11-23T10:00:00Z")

    func testListsAndAddressesExpandAndDedupeWithCaseInsensitiveDomain() throws {
        let rules = [Rule(name: "r", match: [typeIs], send: [
            .email(to: ["partners", "ROPS@EXAMPLE.org", "rops@Example.ORG", "institutions", "partners", "nowy@gmina.example.pl"], template: "t"),
        ])]
        let plan = try Fixtures.engine(rules: rules, files: Fixtures.simpleEmail).plan(event: try Fixtures.event(), now: now)
        // rops@example.org from the list; the upper-case local part is a different mailbox,
        // the second spelling differs from it only in the domain.
        XCTAssertEqual(plan.map(\.recipient), ["rops@example.org", "kwp@example.org", "ROPS@EXAMPLE.org",
                                               "gops@example.org", "pcpr@example.org", "nowy@gmina.example.pl"])
        XCTAssertTrue(plan.allSatisfy { $0.state == .pending })
        for delivery in plan {
            guard case .email(let mail)? = delivery.payload else { return XCTFail("no email") }
            XCTAssertEqual(mail.to, delivery.recipient, "each recipient gets a message of its own")
            XCTAssertEqual(mail.from, "Powiadomienia ROPS <powiadomienia@example.org>")
        }
    }

    func testDisplayNameFromTheListReachesToHeaderAndTemplate() throws {
        let rules = [Rule(name: "r", match: [typeIs], send: [.email(to: ["partners"], template: "n")])]
        let files = ["n/subject.mustache": "Dla {{recipient.name}}\n", "n/text.mustache": "Adres: {{recipient.address}}\n"]
        let plan = try Fixtures.engine(rules: rules, files: files,
                                       recipients: ["partners": ["MOPS w Krakowie <sekretariat@mops.example.org>"]])
            .plan(event: try Fixtures.event(), now: now)
        XCTAssertEqual(plan.map(\.recipient), ["sekretariat@mops.example.org"])
        guard case .email(let mail)? = plan.first?.payload else { return XCTFail("no email") }
        XCTAssertEqual(mail.to, "MOPS w Krakowie <sekretariat@mops.example.org>")
        XCTAssertEqual(mail.subject, "Dla MOPS w Krakowie")
        XCTAssertEqual(mail.text, "Adres: sekretariat@mops.example.org\n")
    }

    func testDomainCaseDuplicateIsDropped() throws {
        let rules = [Rule(name: "r", match: [typeIs], send: [.email(to: ["gops@example.org", "gops@EXAMPLE.ORG"], template: "t")])]
        let plan = try Fixtures.engine(rules: rules, files: Fixtures.simpleEmail).plan(event: try Fixtures.event(), now: now)
        XCTAssertEqual(plan.map(\.recipient), ["gops@example.org"])
    }

    func testDedupeIsPerActionNotAcrossActions() throws {
        let rules = [Rule(name: "r", match: [typeIs], send: [
            .email(to: ["partners"], template: "t"), .email(to: ["rops@example.org"], template: "t"),
        ])]
        let plan = try Fixtures.engine(rules: rules, files: Fixtures.simpleEmail).plan(event: try Fixtures.event(), now: now)
        XCTAssertEqual(plan.map(\.action), [0, 0, 1])
        XCTAssertEqual(Set(plan.map(\.id)).count, 3)
    }

    func testUnknownListAndBadAddressAreHeldNotDropped() throws {
        let rules = [Rule(name: "r", match: [typeIs], send: [.email(to: ["nieznana-lista", "zły adres@x"], template: "t")])]
        let plan = try Fixtures.engine(rules: rules, files: Fixtures.simpleEmail).plan(event: try Fixtures.event(), now: now)
        XCTAssertEqual(plan.count, 2)
        XCTAssertTrue(plan.allSatisfy { $0.state == .held && $0.payload == nil })
        XCTAssertTrue(plan[0].reason?.contains("nieznana-lista") ?? false)
        XCTAssertTrue(plan[1].reason?.contains("zły adres@x") ?? false)
    }

    func testWebhookIsOneDeliveryPerActionWithTheEventAsBody() throws {
        let rules = [Rule(name: "r", match: [typeIs], send: [.webhook(endpoint: "partnerzy-hub", template: nil)])]
        let event = try Fixtures.event(data: ["contest": "Przeciw przemocy"])
        let plan = try Fixtures.engine(rules: rules, files: [:]).plan(event: event, now: now)
        XCTAssertEqual(plan.count, 1)
        XCTAssertEqual(plan[0].recipient, "partnerzy-hub")
        XCTAssertEqual(plan[0].channel, .webhook)
        XCTAssertEqual(plan[0].notBefore, now)
        guard case .webhook(let hook)? = plan[0].payload else { return XCTFail("no webhook") }
        XCTAssertEqual(hook.contentType, "application/cloudevents+json")
        XCTAssertEqual(hook.body, event.structuredJSON())
    }

    func testDeliveryIDsAreStableAndDistinct() throws {
        let rules = [Rule(name: "r", match: [typeIs], send: [
            .email(to: ["partners"], template: "t"), .webhook(endpoint: "partnerzy-hub", template: nil),
        ])]
        let engine = try Fixtures.engine(rules: rules, files: Fixtures.simpleEmail)
        let first = engine.plan(event: try Fixtures.event(), now: now)
        let again = engine.plan(event: try Fixtures.event(), now: now.addingTimeInterval(3600))
        XCTAssertEqual(first.map(\.id), again.map(\.id), "the same event planned later gives the same ids")
        XCTAssertEqual(Set(first.map(\.id)).count, first.count)
        let other = engine.plan(event: try Fixtures.event(id: "e-2"), now: now)
        XCTAssertTrue(Set(first.map(\.id)).isDisjoint(with: other.map(\.id)))
        XCTAssertEqual(first[0].id, DeliveryID.derive(event: EventKey(source: "https://rops.example.org/konkursy", id: "e-1"),
                                                      rule: "r", action: 0, recipient: "rops@example.org", scheduledAt: nil))
    }
}
