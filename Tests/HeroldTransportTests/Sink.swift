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
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6).prefix(while: { $0.isNumber })) else {
            process.terminate()
            throw XCTSkip("\(script) did not start: \(text)")
        }
        self.port = port
    }

    deinit {
        // Not waitUntilExit(): it spins on a run loop off the main thread.
        process.terminate()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
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
