import Foundation
import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

final class TemplateSetTests: XCTestCase {
    let rules = [
        Rule(name: "mail", match: [], send: [.email(to: ["partners"], template: "a")]),
        Rule(name: "hook", match: [], send: [.webhook(endpoint: "partnerzy-hub", template: "h"),
                                             .webhook(endpoint: "partnerzy-hub", template: nil)]),
    ]

    func issues(_ files: [String: String]) -> [ConfigIssue] {
        do {
            _ = try TemplateSet.compile(config: Fixtures.config(rules: rules), files: files)
            return []
        } catch {
            return error.issues
        }
    }

    let good = [
        "a/subject.mustache": "Temat {{data.x}}\n",
        "a/text.mustache": "Treść\n",
        "h/body.json.mustache": #"{"x": "{{data.x}}"}"#,
    ]

    func testValidSetCompiles() throws {
        let set = try TemplateSet.compile(config: Fixtures.config(rules: rules), files: good)
        XCTAssertNotNil(set.emails["a"])
        XCTAssertNil(set.emails["a"]?.html)
        XCTAssertNotNil(set.webhookBodies["h"])
    }

    func testMissingFilesAreAllReportedWithAFix() {
        let found = issues([:])
        XCTAssertEqual(found.count, 3)
        XCTAssertEqual(found.map(\.file), ["/tmp/herold-rules-tests/templates/a/subject.mustache",
                                           "/tmp/herold-rules-tests/templates/a/text.mustache",
                                           "/tmp/herold-rules-tests/templates/h/body.json.mustache"])
        XCTAssertEqual(found[0].fix, "create templates/a/subject.mustache")
        XCTAssertEqual(found[2].fix, "create templates/h/body.json.mustache")
    }

    func testParseErrorsGiveFileLineAndColumn() {
        var files = good
        files["a/text.mustache"] = "Szanowni Państwo,\n\n{{#data.laureates}}\n{{name}}\n{{/data.laureaci}}\n"
        files["h/body.json.mustache"] = "{\n  \"x\": \"{{data.x\"\n}"
        let found = issues(files)
        XCTAssertEqual(found.count, 2, "\(found)")
        let text = found.first { $0.file.hasSuffix("a/text.mustache") }
        XCTAssertEqual(text?.line, 5)
        XCTAssertGreaterThan(text?.column ?? 0, 0)
        XCTAssertTrue(text?.message.contains("closed with a different name") ?? false)
        let body = found.first { $0.file.hasSuffix("h/body.json.mustache") }
        XCTAssertEqual(body?.line, 2)
        XCTAssertTrue(body?.description.hasPrefix("/tmp/herold-rules-tests/templates/h/body.json.mustache:2:") ?? false,
                      body?.description ?? "")
    }

    func testUnclosedSectionIsReported() {
        var files = good
        files["a/text.mustache"] = "Treść\n{{#data.x}}\nbez końca\n"
        let found = issues(files)
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.message.contains("never closed") ?? false)
        XCTAssertGreaterThanOrEqual(found.first?.line ?? 0, 2)
    }

    func testSubjectWithALineBreakIsFlagged() {
        var files = good
        files["a/subject.mustache"] = "Temat\n{{data.x}}\n"
        let found = issues(files)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.line, 1)
        XCTAssertEqual(found.first?.column, 6)
        XCTAssertTrue(found.first?.message.contains("more than one line") ?? false)
    }

    func testUnknownHelperIsFlaggedWithPosition() {
        var files = good
        files["a/text.mustache"] = "{{! uwaga (komentarz) }}Treść {{{pl_data(data.x)}}}\n  termin: {{pl_dat(data.deadline)}}\n"
        let found = issues(files)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.line, 2)
        XCTAssertEqual(found.first?.column, 11)
        XCTAssertTrue(found.first?.message.contains("pl_dat") ?? false)
    }

    func testUnsafeTemplateNameIsRejected() {
        let bad = [Rule(name: "x", match: [], send: [.email(to: ["partners"], template: "../etc")], line: 12)]
        do {
            _ = try TemplateSet.compile(config: Fixtures.config(rules: bad), files: [:])
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error.issues.first?.line, 12)
            XCTAssertTrue(error.issues.first?.message.contains("../etc") ?? false)
        }
    }

    func testCompilesFromTheFileSystem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herold-ts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (path, text) in good {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try Data([0xFF, 0xFE, 0x41]).write(to: dir.appendingPathComponent("a/html.mustache"))
        let config = Fixtures.config(rules: rules, templatesDirectory: dir)
        XCTAssertThrowsError(try TemplateSet.compile(config: config)) { error in
            let issues = (error as? ConfigErrors)?.issues ?? []
            XCTAssertEqual(issues.count, 1)
            XCTAssertTrue(issues.first?.file.hasSuffix("a/html.mustache") ?? false)
            XCTAssertTrue(issues.first?.message.contains("UTF-8") ?? false)
        }
        try Data("<p>{{data.x}}</p>".utf8).write(to: dir.appendingPathComponent("a/html.mustache"))
        let set = try TemplateSet.compile(config: config)
        XCTAssertNotNil(set.emails["a"]?.html)
    }
}
