import Foundation
import Synchronization
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The built `herold` binary that `swift test` builds next to the test bundle.
var heroldBinary: URL {
    let candidates = [
        Bundle.main.bundleURL.appendingPathComponent("herold"),
        Bundle(for: HarnessMarker.self).bundleURL.deletingLastPathComponent().appendingPathComponent("herold"),
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
}
private final class HarnessMarker {}

/// What a finished command printed and returned.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `herold ARGS...` to completion.
@discardableResult
func runHerold(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = heroldBinary
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus,
                         stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// A fresh folder under the system temp dir, removed by the test's teardown.
func makeTemporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("herold-it-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: TimeInterval = 15, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
        if try condition() { return true }
        usleep(50_000)
    } while Date() < deadline
    return try condition()
}

/// A background process (a test server, or `herold serve`) killed when the test ends.
final class BackgroundProcess {
    let process = Process()
    private let outPipe = Pipe()
    private let errPipe = Pipe()
    private let collected = OutputBuffer()

    init(executable: URL, arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = outPipe
        process.standardError = errPipe
        let buffer = collected
        let sink: @Sendable (FileHandle) -> Void = { handle in
            let data = handle.availableData
            if !data.isEmpty { buffer.append(data) }
        }
        outPipe.fileHandleForReading.readabilityHandler = sink
        errPipe.fileHandleForReading.readabilityHandler = sink
        try process.run()
    }

    /// Everything the process printed so far (stdout and stderr together).
    var output: String { collected.text }

    func waitForOutput(containing text: String, timeout: TimeInterval = 15) -> Bool {
        eventually(timeout: timeout) { output.contains(text) }
    }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for exit; returns the status, or nil if still running after `timeout`.
    func waitForExit(timeout: TimeInterval = 20) -> Int32? {
        guard eventually(timeout: timeout, { !process.isRunning }) else { return nil }
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        outPipe.fileHandleForReading.readabilityHandler = nil
        errPipe.fileHandleForReading.readabilityHandler = nil
    }

    deinit { stop() }
}

/// A real test server from Tests/Support (aiosmtpd SMTP sink, Python HTTP sink) on 127.0.0.1.
final class SinkServer {
    let background: BackgroundProcess
    let port: Int
    let directory: URL

    init(script: String, directory: URL, extraArguments: [String] = []) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let python = URL(fileURLWithPath: "/usr/bin/env")
        let scriptPath = repositoryRoot.appendingPathComponent("Tests/Support/\(script)").path
        background = try BackgroundProcess(
            executable: python,
            arguments: ["python3", "-u", scriptPath, "--port", "0", "--dir", directory.path] + extraArguments)
        guard background.waitForOutput(containing: "READY ", timeout: 20),
              let line = background.output.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }),
              let port = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        else {
            background.stop()
            throw HarnessError("\(script) did not start: \(background.output)")
        }
        self.port = port
    }

    /// The JSON records the sink wrote (`N.json`), in arrival order.
    func records() -> [[String: Any]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }
            .sorted { (Int($0.dropLast(5)) ?? 0) < (Int($1.dropLast(5)) ?? 0) }
            .compactMap { name in
                guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path)
                else { return nil }
                return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            }
    }

    deinit { background.stop() }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`.
final class NotifySocket {
    let path: String
    private let fd: Int32
    private(set) var messages: [String] = []
    /// Each datagram with the moment it was read (read only while `waitFor` runs).
    private(set) var timedMessages: [(at: Date, text: String)] = []

    init(directory: URL) throws {
        path = directory.appendingPathComponent("notify.sock").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(path.utf8)) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else { throw HarnessError("bind \(path): \(errno)") }
    }

    /// Reads datagrams until one contains `text` or `timeout` passes.
    func waitFor(_ text: String, timeout: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !messages.contains(where: { $0.contains(text) }) {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return false }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(min(remaining, 1) * 1000)) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                let text = String(decoding: buffer[0..<n], as: UTF8.self)
                messages.append(text)
                timedMessages.append((Date(), text))
            }
        }
        return true
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

/// What a background process printed, filled from its pipes' reader threads.
final class OutputBuffer: Sendable {
    private let data = Mutex(Data())
    func append(_ more: Data) { data.withLock { $0.append(more) } }
    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}
