import Foundation
import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

/// `to: [data.FIELD]`: recipients the event names, within `max_recipients` and
/// `allowed_domains`, and never two deliveries with one id.
final class EventRecipientTests: XCTestCase {
    let now = Fixtures.date("2026-11-23T10:00:00Z")

    func engine(to: [String] = ["data.recipients"], limits: EventRecipientLimits? = nil,
                remind: Remind? = nil) throws -> RuleEngine {
        var rule = Rule(name: "r", match: [MatchCondition(path: "type", test: .oneOf(["contest.deadline"]))],
                        remind: remind, send: [.email(to: to, template: "t")])
        if let limits { rule.recipientLimits = [0: limits] }
        return try Fixtures.engine(rules: [rule], files: Fixtures.simpleEmail)
    }

    func plan(_ recipients: JSONValue, _ engine: RuleEngine) throws -> [Delivery] {
        engine.plan(event: try Fixtures.event(data: ["recipients": recipients, "deadline": "2026-12-15"]), now: now)
    }

    func testThePoisonListIsOneHeldDeliveryNamingEachPosition() throws {
        let deliveries = try plan(.array([.object(["name": "A"]), .null]), engine())
        XCTAssertEqual(deliveries.count, 1)
        XCTAssertEqual(deliveries[0].state, .held)
        XCTAssertEqual(deliveries[0].recipient, "data.recipients")
        XCTAssertEqual(deliveries[0].reason, "2 entries of data.recipients cannot be used: data.recipients[0] has no \"address\" (a bare name@domain); data.recipients[1] is null, neither an address nor a map")
    }

    func testManyUnusableEntriesAreCountedAndTheFirstListed() throws {
        let items = (0..<9).map { JSONValue.string("nie adres \($0)") } + ["ok@example.org"]
        let deliveries = try plan(.array(items), engine())
        XCTAssertEqual(deliveries.map(\.recipient), ["ok@example.org", "data.recipients"])
        let reason = deliveries[1].reason ?? ""
        XCTAssertTrue(reason.hasPrefix("9 entries of data.recipients cannot be used: data.recipients[0]: recipient \"nie adres 0\""), reason)
        XCTAssertTrue(reason.contains("data.recipients[4]") && !reason.contains("data.recipients[5]"), reason)
        XCTAssertTrue(reason.hasSuffix("; and 4 more"), reason)
    }

    func testMoreThanMaxRecipientsHoldsTheActionWithTheReason() throws {
        let forty = JSONValue.array((0..<40).map { .string("osoba\($0)@example.org") })
        let held = try plan(forty, engine(to: ["data.recipients", "partners"]))
        XCTAssertEqual(held.map(\.recipient), ["data.recipients", "rops@example.org", "kwp@example.org"])
        XCTAssertEqual(held[0].state, .held)
        XCTAssertNil(held[0].payload)
        XCTAssertEqual(held[0].reason, "the event names 40 recipients in data.recipients; max_recipients is 20, so none of them is sent")
        XCTAssertEqual(held[1...].map(\.state), [.pending, .pending], "lists in the config are not limited")

        let twenty = JSONValue.array((0..<20).map { .string("osoba\($0)@example.org") })
        XCTAssertEqual(try plan(twenty, engine()).filter { $0.state == .pending }.count, 20)
        let raised = try plan(forty, engine(limits: EventRecipientLimits(maxRecipients: 40)))
        XCTAssertEqual(raised.filter { $0.state == .pending }.count, 40)
    }

    func testAddressesOutsideAllowedDomainsAreHeldEachWithTheReason() throws {
        let limits = EventRecipientLimits(allowedDomains: ["Example.org", "gmina.pl"])
        let deliveries = try plan(.array([
            "a@example.org", "b@MOPS.Example.ORG", "c@badexample.org", "d@example.org.evil.com",
            .object(["address": "e@gmina.pl.", "name": "E"]), "f@xn--gmina-zka.pl", "C@badexample.org", "c@BADEXAMPLE.org",
        ]), engine(limits: limits))
        // The local part is compared exactly (C@ is another mailbox), the domain in any case (c@BADEXAMPLE.org is c@badexample.org).
        XCTAssertEqual(deliveries.map(\.recipient), ["a@example.org", "b@MOPS.Example.ORG", "c@badexample.org", "d@example.org.evil.com",
                                                     "f@xn--gmina-zka.pl", "C@badexample.org", "data.recipients"])
        let byRecipient = Dictionary(deliveries.map { ($0.recipient, $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(byRecipient["a@example.org"]?.state, .pending)
        XCTAssertEqual(byRecipient["b@MOPS.Example.ORG"]?.state, .pending, "subdomain, any case")
        for outside in ["c@badexample.org", "d@example.org.evil.com", "f@xn--gmina-zka.pl", "C@badexample.org"] {
            XCTAssertEqual(byRecipient[outside]?.state, .held, outside)
            XCTAssertTrue(byRecipient[outside]?.reason?.contains("is outside allowed_domains (example.org, gmina.pl); not sent") == true,
                          byRecipient[outside]?.reason ?? outside)
        }
        // "e@gmina.pl." is no valid address (a trailing dot), so it is reported, not sent.
        XCTAssertTrue(byRecipient["data.recipients"]?.reason?.contains("data.recipients[4]") == true)
        XCTAssertEqual(Set(deliveries.map(\.id)).count, deliveries.count)
    }

    /// Whatever the event holds, every entry ends up in exactly one delivery (sent, or held
    /// naming it), and no two deliveries share an id: the journal's insert always succeeds.
    func testNoInputGivesTwoDeliveriesOneIDOrLosesAnEntry() throws {
        var random = SplitMix(seed: 8)
        let pool: [JSONValue] = [
            .null, .int(5), .bool(true), .array([]), .object([:]), .object(["name": "A"]),
            .object(["address": .null]), .object(["address": "<x@example.org>"]),
            .object(["address": "anna@example.org", "name": "Anna"]), .object(["address": "anna@EXAMPLE.org"]),
            "anna@example.org", "Anna <anna@example.org>", "ANNA@example.org", "rops@example.org", "data.recipients",
            "partners", "", " ", "x@", "@x", "jan@gmina.example.pl", "Jan <jan@gmina.example.pl>", "zły adres@x",
            "a\r\nRCPT TO:<b@example.org>@example.org", .string(String(repeating: "a", count: 300) + "@example.org"),
        ]
        let engines = [
            try engine(to: ["data.recipients", "data.recipients", "partners", "rops@example.org", "data.inne"]),
            try engine(limits: EventRecipientLimits(maxRecipients: 6, allowedDomains: ["example.org"]),
                       remind: Remind(field: "data.deadline", beforeDays: [14, 7, 1], atMinutes: 9 * 60)),
        ]
        for round in 0..<400 {
            let items = (0..<random.next(below: 9)).map { _ in pool[random.next(below: pool.count)] }
            for engine in engines {
                let deliveries = try plan(.array(items), engine)
                XCTAssertEqual(Set(deliveries.map(\.id)).count, deliveries.count, "round \(round): \(items)")
                let limits = engine.config.rules[0].recipientLimits[0] ?? EventRecipientLimits()
                let names = engine.recipients(of: engine.config.rules[0].send[0],
                                              event: try Fixtures.event(data: ["recipients": .array(items)]), limits: limits).map(\.name)
                XCTAssertEqual(Set(names.map(RecipientCollector.key)).count, names.count, "round \(round): \(names)")
                guard items.count <= limits.maxRecipients else {
                    XCTAssertTrue(names.contains("data.recipients"), "round \(round)")
                    continue
                }
                for (position, item) in items.enumerated() {
                    if let address = Self.address(item) {
                        XCTAssertTrue(names.contains { RecipientCollector.key($0) == RecipientCollector.key(address) },
                                      "round \(round): \(address) lost from \(names)")
                    } else {
                        let folded = deliveries.first { $0.recipient == "data.recipients" }?.reason ?? ""
                        let unusable = items.filter { Self.address($0) == nil }.count
                        XCTAssertTrue(folded.contains("data.recipients[\(position)]") || folded.hasPrefix("\(unusable) entries"),
                                      "round \(round): entry \(position) (\(item)) not reported: \(folded)")
                    }
                }
            }
        }
    }

    /// The bare address an entry gives, if it is usable at all.
    static func address(_ item: JSONValue) -> String? {
        switch item {
        case .string(let text): return try? Mailbox.parse(text).address
        case .object(let fields):
            guard let text = fields["address"]?.stringValue, !text.contains("<") else { return nil }
            return try? Mailbox.parse(text).address
        default: return nil
        }
    }
}

/// A small seeded generator, so a failing round can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(below bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
