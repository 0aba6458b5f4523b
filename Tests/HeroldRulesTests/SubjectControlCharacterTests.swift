import Foundation
import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

/// Found by fuzzing (Fuzz/, target fuzz-template): a value with a control character made a
/// subject the composer refuses at send time, so the delivery failed for good instead of
/// being held with its reason when planned.
final class SubjectControlCharacterTests: XCTestCase {
    func testSubjectWithAControlCharacterIsHeldWithItsReason() throws {
        let rules = [Rule(name: "r", match: [MatchCondition(path: "type", test: .oneOf(["contest.deadline"]))],
                          send: [.email(to: ["gops@example.org"], template: "t")])]
        let engine = try Fixtures.engine(rules: rules, files: ["t/subject.mustache": "Konkurs {{data.title}}",
                                                                "t/text.mustache": "Treść\n"])
        let plan = engine.plan(event: try Fixtures.event(data: ["title": .string("a\u{1}b")]), now: Fixtures.date("2026-11-23T10:00:00Z"))
        XCTAssertEqual(plan.map(\.state), [.held])
        let reason = try XCTUnwrap(plan.first?.reason)
        XCTAssertTrue(reason.contains("control character"), reason)
        XCTAssertTrue(reason.contains("t/subject.mustache"), reason)

        let tab = engine.plan(event: try Fixtures.event(data: ["title": .string("a\tb")]), now: Fixtures.date("2026-11-23T10:00:00Z"))
        XCTAssertEqual(tab.map(\.state), [.pending], "a tab is allowed in a header")
    }
}
