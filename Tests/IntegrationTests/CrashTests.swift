import Foundation
import XCTest

/// `scripts/crash-test.py` on a small scale: herold killed with SIGKILL 20 times while 300
/// events pour in; nothing is lost, and repeats carry the same Message-ID / webhook-id.
final class CrashTests: XCTestCase {
    func testSIGKILLAtRandomMomentsLosesNothingAndRepeatsKeepTheirIds() throws {
        let script = repositoryRoot.appendingPathComponent("scripts/crash-test.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // A kill can repeat every transfer then between the server's reply and the journal's
        // record (16 at once): the bound here is that, the figures go to the README.
        process.arguments = ["python3", script, "--herold", heroldBinary.path, "--events", "300", "--kills", "20",
                             "--max-repeats-per-kill", "16", "--timeout", "45"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let line = try XCTUnwrap(text.split(separator: "\n").last { $0.hasPrefix("{") }, text)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(summary["missing"] as? Int, 0, text)
        XCTAssertEqual(summary["distinct_ids"] as? Int, 900, text)
        XCTAssertEqual(summary["problems"] as? [String], [], text)
        XCTAssertEqual(process.terminationStatus, 0, text)
    }
}
