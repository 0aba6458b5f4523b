import Foundation
import XCTest

/// One of the python servers in Tests/Support, started for a test and stopped with it.
final class Sink {
    let process = Process()
    let directory: URL
    let port: Int

    /// Starts `Tests/Support/<script>` on a free 127.0.0.1 port and waits for its "READY <port>".
    init(_ script: String, _ arguments: [String] = []) throws {
        let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Support")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herold-sink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", support.appendingPathComponent(script).path,
                             "--port", "0", "--dir", directory.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        // Into a file, not a pipe nobody reads: a chatty server must never block on a full pipe.
        let log = directory.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6).prefix(while: { $0.isNumber })) else {
            process.terminate()
            waitForExit(process)
            let errors = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: directory)
            // A test whose server does not start fails; it never skips.
            throw SinkError(description: "\(script) \(arguments.joined(separator: " ")) did not start; it printed:\n\(text)\(errors)")
        }
        self.port = port
    }

    deinit {
        process.terminate()
        waitForExit(process)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The lines of `events.jsonl` (every EHLO, AUTH and MAIL the SMTP sink saw), parsed, in order.
    func events() throws -> [[String: Any]] {
        let file = directory.appendingPathComponent("events.jsonl")
        guard FileManager.default.fileExists(atPath: file.path) else { return [] }
        return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    /// The saved `N.json` files, parsed, in arrival order.
    func records() throws -> [[String: Any]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }
            .sorted { Int($0.dropLast(5)) ?? 0 < Int($1.dropLast(5)) ?? 0 }
        return try names.map { name in
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }
}

/// Waits up to `seconds` for `process` to end. Not waitUntilExit(): it spins on a run loop off
/// the main thread.
func waitForExit(_ process: Process, seconds: TimeInterval = 3) {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { usleep(10_000) }
}

struct SinkError: Error, CustomStringConvertible {
    var description: String
}

/// A private CA and a server certificate for 127.0.0.1 it signed, made by
/// `Tests/Support/make_test_ca.sh` with the openssl command: `ca.pem`, `server.pem`,
/// `server.key`, and `other-ca.pem`, a CA that did not sign it.
final class TestCA {
    let directory: URL
    var ca: String { directory.appendingPathComponent("ca.pem").path }
    var otherCA: String { directory.appendingPathComponent("other-ca.pem").path }
    /// `--starttls CERT KEY` / `--tls CERT KEY` for the SMTP sink.
    func sinkArguments(_ option: String) -> [String] {
        [option, directory.appendingPathComponent("server.pem").path, directory.appendingPathComponent("server.key").path]
    }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herold-ca-\(UUID().uuidString)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/make_test_ca.sh")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [script.path, directory.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        waitForExit(process, seconds: 30)
        guard process.terminationStatus == 0 else {
            throw SinkError(description: "make_test_ca.sh failed: \(String(decoding: message, as: UTF8.self))")
        }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}
