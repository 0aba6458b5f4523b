import Foundation
import XCTest
@testable import HeroldStore

/// The state folder belongs to one daemon, and to nobody else.
final class StatePrivacyTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("herold-state-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    func testSecondLockOnTheSameFolderNamesTheHolder() throws {
        let first = try StateLock(directory: directory)
        XCTAssertThrowsError(try StateLock(directory: directory)) { error in
            guard case StateLock.Failure.held(let path, let pid) = error else {
                return XCTFail("expected .held, got \(error)")
            }
            XCTAssertEqual(path, first.path)
            XCTAssertEqual(pid, getpid(), "the error names the process holding the folder")
            XCTAssertTrue("\(error)".contains("pid \(getpid())"), "\(error)")
        }
        XCTAssertEqual(try mode(first.path), 0o600)
    }

    func testLockIsFreedWhenItsHolderGoes() throws {
        do { _ = try StateLock(directory: directory) }
        XCTAssertNoThrow(try StateLock(directory: directory), "a lock dies with its holder; no stale lock")
    }

    func testWideModesLeftByAnOlderVersionAreNarrowed() throws {
        let file = directory.appendingPathComponent(Journal.fileName).path
        do {
            let journal = try Journal(directory: directory)
            try journal.close()
        }
        chmod(directory.path, 0o755)
        chmod(file, 0o644)
        let journal = try Journal(directory: directory)
        defer { try? journal.close() }
        XCTAssertEqual(try mode(file), 0o600, "group herold (the producers) must not read the journal")
        XCTAssertEqual(try mode(directory.path), 0o700)
        if FileManager.default.fileExists(atPath: file + "-wal") {
            XCTAssertEqual(try mode(file + "-wal") & 0o077, 0)
        }
    }
}
