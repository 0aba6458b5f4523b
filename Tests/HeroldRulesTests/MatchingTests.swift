import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

final class MatchingTests: XCTestCase {
    func rule(_ name: String, _ match: [MatchCondition]) -> Rule {
        Rule(name: name, match: match, send: [.email(to: ["partners"], template: "t")])
    }

    func engine(_ rules: [Rule]) throws -> RuleEngine {
        try Fixtures.engine(rules: rules, files: Fixtures.simpleEmail)
    }

    func testMatchesOnTypeAndIgnoresOtherTypes() throws {
        let e = try engine([rule("a", [MatchCondition(path: "type", test: .oneOf(["laureates.announced"]))])])
        XCTAssertEqual(e.matchingRules(try Fixtures.event(type: "laureates.announced")).map(\.name), ["a"])
        XCTAssertEqual(e.matchingRules(try Fixtures.event(type: "contest.deadline")), [])
    }

    func testEqualityOnDataFieldComparesScalarsAsText() throws {
        let e = try engine([rule("edition-9", [
            MatchCondition(path: "type", test: .oneOf(["laureates.announced"])),
            MatchCondition(path: "data.edition", test: .oneOf(["9"])),
        ])])
        XCTAssertEqual(e.matchingRules(try Fixtures.event(type: "laureates.announced", data: ["edition": .int(9)])).count, 1)
        XCTAssertEqual(e.matchingRules(try Fixtures.event(type: "laureates.announced", data: ["edition": "9"])).count, 1)
        XCTAssertEqual(e.matchingRules(try Fixtures.event(type: "laureates.announced", data: ["edition": "10"])), [])
        // Every condition must hold, not just one.
        XCTAssertEqual(e.matchingRules(try Fixtures.event(type: "contest.deadline", data: ["edition": "9"])), [])
    }

    func testOneOfList() throws {
        let e = try engine([rule("ceremonies", [MatchCondition(path: "type", test: .oneOf(["ceremony.scheduled", "conference.scheduled"]))])])
        XCTAssertEqual(e.matchingRules(try Fixtures.event(type: "conference.scheduled")).count, 1)
        XCTAssertEqual(e.matchingRules(try Fixtures.event(type: "ceremony.scheduled")).count, 1)
        XCTAssertEqual(e.matchingRules(try Fixtures.event(type: "ceremony.cancelled")), [])
    }

    func testPresenceAndAbsence() throws {
        let e = try engine([
            rule("with-url", [MatchCondition(path: "data.url", test: .present(true))]),
            rule("without-url", [MatchCondition(path: "data.url", test: .present(false))]),
            rule("with-subject", [MatchCondition(path: "subject", test: .present(true))]),
        ])
        XCTAssertEqual(e.matchingRules(try Fixtures.event(data: ["url": "https://x"])).map(\.name), ["with-url"])
        XCTAssertEqual(e.matchingRules(try Fixtures.event(data: [:])).map(\.name), ["without-url"])
        XCTAssertEqual(e.matchingRules(try Fixtures.event(data: ["url": .null])).map(\.name), ["without-url"])
        XCTAssertEqual(e.matchingRules(try Fixtures.event(extra: ["subject": "x"])).map(\.name), ["without-url", "with-subject"])
    }

    func testContainerNeverEqualsText() throws {
        let e = try engine([rule("a", [MatchCondition(path: "data.contest", test: .oneOf(["[]"]))])])
        XCTAssertEqual(e.matchingRules(try Fixtures.event(data: ["contest": .array([])])), [])
    }

    func testNonMatchingEventPlansNothing() throws {
        let e = try engine([rule("a", [MatchCondition(path: "type", test: .oneOf(["x"]))])])
        XCTAssertEqual(e.plan(event: try Fixtures.event(type: "y"), now: Date()), [])
    }

    func testEveryMatchingRuleContributes() throws {
        let typeIs = MatchCondition(path: "type", test: .oneOf(["contest.deadline"]))
        let e = try engine([rule("first", [typeIs]), rule("second", [typeIs])])
        let plan = e.plan(event: try Fixtures.event(), now: Date())
        XCTAssertEqual(Set(plan.map(\.rule)), ["first", "second"])
        XCTAssertEqual(plan.count, 4) // 2 rules × 2 partners
    }
}
