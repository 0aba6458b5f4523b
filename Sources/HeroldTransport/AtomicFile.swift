#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A failed system call: which one, on what, and errno's text.
struct SystemCallError: Error, CustomStringConvertible {
    var call: String
    var path: String
    var errno: Int32
    var description: String { "\(call) \(path): \(String(cString: strerror(errno)))" }
}

/// Crash-safe file creation: a reader sees the whole file or none of it, and it survives power loss.
enum AtomicFile {
    /// Writes to a temporary name, fsyncs, renames over `name`, fsyncs the folder.
    static func create(_ data: Data, directory: String, name: String) throws(SystemCallError) {
        try makeDirectory(directory)
        let final = directory + "/" + name
        let temporary = directory + "/.\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = try retrying("open", temporary) { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640) }
        var closed = false
        defer {
            if !closed { _ = close(fd) }
        }
        do throws(SystemCallError) {
            var offset = 0
            while offset < data.count {
                let written = try retrying("write", temporary) {
                    data.withUnsafeBytes { buffer in
                        // data is non-empty here, so the buffer has a base address.
                        write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                    }
                }
                offset += written
            }
            _ = try retrying("fsync", temporary) { fsync(fd) }
            closed = true
            _ = try retrying("close", temporary) { close(fd) }
            _ = try retrying("rename", final) { rename(temporary, final) }
        } catch {
            _ = unlink(temporary)
            throw error
        }
        let dirFD = try retrying("open", directory) { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { _ = close(dirFD) }
        _ = try retrying("fsync", directory) { fsync(dirFD) }
    }

    private static func makeDirectory(_ path: String) throws(SystemCallError) {
        if mkdir(path, 0o750) != 0 && errno != EEXIST {
            throw SystemCallError(call: "mkdir", path: path, errno: errno)
        }
    }

    /// Runs a call until it does not fail with EINTR; a -1 result becomes a thrown error.
    private static func retrying<T: BinaryInteger>(_ call: String, _ path: String,
                                                   _ body: () -> T) throws(SystemCallError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            if errno == EINTR { continue }
            throw SystemCallError(call: call, path: path, errno: errno)
        }
    }
}
