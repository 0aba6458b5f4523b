import Foundation
import XCTest

/// `herold check`, `enqueue` and `preview` as a person at a terminal uses them.
final class CommandLineTests: XCTestCase {
    private var site: TestSite!
    override func setUpWithError() throws {
        site = try TestSite(name: "cli", smtpPort: 2525, httpPort: 8080)
    }
    override func tearDown() { site.remove() }

    func testCheckAcceptsAGoodConfig() throws {
        let result = try runHerold(["check", "--config", site.configPath])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    }

    func testCheckOnABrokenConfigExits78NamingEveryLine() throws {
        var yaml = try String(contentsOfFile: site.configPath, encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "to: [partners]", with: "to: [partnerzy]")
        yaml = yaml.replacingOccurrences(of: "secret_file:", with: "secret_fil:")
        try yaml.write(toFile: site.configPath, atomically: true, encoding: .utf8)
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let toLine = lines.firstIndex { $0.contains("partnerzy") }! + 1
        let secretLine = lines.firstIndex { $0.contains("secret_fil:") }! + 1

        let result = try runHerold(["check", "--config", site.configPath])
        XCTAssertEqual(result.status, 78)
        let output = result.stdout + result.stderr
        XCTAssertTrue(output.contains("herold.yaml:\(toLine):"), output)
        XCTAssertTrue(output.contains("partnerzy"), output)
        XCTAssertTrue(output.contains("herold.yaml:\(secretLine):"), output)
        XCTAssertTrue(output.contains("secret_file"), output)
    }

    func testCheckNamesABrokenTemplateLine() throws {
        let text = site.root.appendingPathComponent("templates/laureaci/text.mustache")
        try "Szanowni Państwo,\n\n{{#data.laureates}}\n- {{name}}\n".write(to: text, atomically: true, encoding: .utf8)
        let result = try runHerold(["check", "--config", site.configPath])
        XCTAssertEqual(result.status, 78)
        XCTAssertTrue((result.stdout + result.stderr).contains("text.mustache"), result.stdout + result.stderr)
    }

    func testEnqueueRefusesAnInvalidEventAndWritesNothing() throws {
        let good = site.root.appendingPathComponent("good.json")
        let bad = site.root.appendingPathComponent("bad.json")
        try TestSite.laureatesEvent(id: "ok").write(to: good, atomically: true, encoding: .utf8)
        try #"{"specversion":"1.0","source":"s","type":"t"}"#.write(to: bad, atomically: true, encoding: .utf8)
        let result = try runHerold(["enqueue", "--config", site.configPath, good.path, bad.path])
        XCTAssertEqual(result.status, 65)
        XCTAssertTrue(result.stderr.contains("bad.json"), result.stderr)
        XCTAssertTrue(result.stderr.contains("\"id\""), result.stderr)
        XCTAssertEqual(site.newFiles(), [])
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: site.spoolTmp.path)) ?? [], [])

        let ok = try runHerold(["enqueue", "--config", site.configPath, good.path])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(site.newFiles().count, 1)
    }

    func testAnEventFromTheCloudEventsSDKIsAccepted() throws {
        let maker = Process()
        maker.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        maker.arguments = ["python3", repositoryRoot.appendingPathComponent("Tests/Support/make_event.py").path]
        let out = Pipe()
        maker.standardOutput = out
        try maker.run()
        let event = out.fileHandleForReading.readDataToEndOfFile()
        maker.waitUntilExit()
        XCTAssertEqual(maker.terminationStatus, 0)
        let preview = try runHerold(["preview", "--config", site.configPath, "--json", "-"], stdin: event)
        XCTAssertEqual(preview.status, 0, preview.stderr)
        let items = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(preview.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(items.count, 3)
        XCTAssertTrue((items.first?["text"] as? String ?? "").contains("Gmina Rzezawa / Gminny Ośrodek Pomocy Społecznej w Rzezawie"))
        let queued = try runHerold(["enqueue", "--config", site.configPath, "-"], stdin: event)
        XCTAssertEqual(queued.status, 0, queued.stderr)
        XCTAssertEqual(site.newFiles().count, 1)
    }

    func testPreviewShowsEveryMessageAndSendsNothing() throws {
        let event = site.root.appendingPathComponent("event.json")
        try TestSite.laureatesEvent(id: "podglad").write(to: event, atomically: true, encoding: .utf8)
        let result = try runHerold(["preview", "--config", site.configPath, "--json", event.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let items = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(items.count, 3)
        let emails = items.filter { $0["channel"] as? String == "email" }
        XCTAssertEqual(emails.count, 2)
        XCTAssertEqual(emails.first?["subject"] as? String, TestSite.expectedLaureatesSubject())
        XCTAssertEqual((emails.first?["text"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines),
                       TestSite.expectedLaureatesText())
        XCTAssertFalse(FileManager.default.fileExists(atPath: site.root.appendingPathComponent("state").path))
    }

    func testSystemdUnitPassesVerify() throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else {
            throw HarnessError("systemd-analyze is missing: scripts/setup.sh installs the systemd package")
        }
        let unit = try String(contentsOf: repositoryRoot.appendingPathComponent("systemd/herold.service"), encoding: .utf8)
        XCTAssertTrue(unit.contains("Type=notify"))
        let dir = try makeTemporaryDirectory("unit")
        defer { try? FileManager.default.removeItem(at: dir) }
        // verify wants ExecStart's file to exist: point it at the binary just built.
        let local = unit.replacingOccurrences(of: "/usr/bin/herold", with: heroldBinary.path)
        let path = dir.appendingPathComponent("herold.service")
        try local.write(to: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyze)
        // man:herold(1) exists once the package is installed (scripts/ci-deb.sh checks it there).
        process.arguments = ["verify", "--man=no", path.path]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let messages = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, messages)

        // Hardened: systemd's own exposure score at most 1.1 (11 on its 0-100 scale).
        let security = Process()
        security.executableURL = URL(fileURLWithPath: analyze)
        security.arguments = ["security", "--offline=yes", "--threshold=11", path.path]
        let out = Pipe()
        security.standardOutput = out
        security.standardError = out
        try security.run()
        let report = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        security.waitUntilExit()
        XCTAssertEqual(security.terminationStatus, 0, report)
        XCTAssertTrue(report.contains("Overall exposure level for herold.service: 1.1"), report)
    }
}
