import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Runs a system tool (`/usr/bin/sqlite3`, `/bin/mount`…) to completion.
@discardableResult
func runTool(_ path: String, _ arguments: [String], stdin: String? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// A TestSite seen from the ingest side: its journal, its rejected files, and the log
/// lines herold wrote about one spool file.
extension TestSite {
    var state: URL { root.appendingPathComponent("state") }
    var journalPath: String { state.appendingPathComponent("journal.sqlite").path }

    /// Runs SQL on the journal with the sqlite3 command-line tool; fails the test if it fails.
    @discardableResult
    func sql(_ statement: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try runTool("/usr/bin/sqlite3", ["-cmd", ".timeout 10000", journalPath, statement])
        XCTAssertEqual(result.status, 0, "sqlite3 \(statement): \(result.stderr)", file: file, line: line)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func rejectedFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: rejected.path)) ?? []).filter { !$0.hasPrefix(".") }
    }

    /// The first line of `rejected/NAME.reason`.
    func rejectionReason(_ name: String) -> String? {
        let path = rejected.appendingPathComponent(name + ".reason").path
        return (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").first.map(String.init)
    }

    /// Whether the journal holds the event `id`.
    func journalHolds(_ id: String) throws -> Bool {
        try sql("SELECT COUNT(*) FROM events WHERE id = '\(id)'") == "1"
    }
}

/// The log lines that name `text` (a spool file's name, a message).
func logLines(_ output: String, mentioning text: String) -> [Substring] {
    output.split(separator: "\n").filter { $0.contains(text) }
}

/// The laureates event with this id, as the file name tests drop it under.
func laureates(_ id: String) -> (name: String, body: String) {
    ("\(id).json", TestSite.laureatesEvent(id: id))
}
