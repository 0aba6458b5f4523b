// Linux only: the spool relies on inotify, renameat2 and eventfd.
import Foundation
import Glibc

/// A failed system call: which call, on which path, and what the kernel said.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call's name, e.g. `open`, `rename`.
    public var call: String
    /// The path (or paths, `a -> b`) it was working on.
    public var path: String
    public var errno: Int32

    public init(call: String, path: String, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(call) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Every syscall of the spool goes through here: EINTR is retried, -1 becomes a thrown
/// `SystemCallError` carrying the path and strerror. Modelled on swift-nio's System.swift.
enum Syscall {
    @discardableResult
    static func call<T: FixedWidthInteger>(
        _ name: String, _ path: String, _ body: () -> T
    ) throws(SystemCallError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SystemCallError(call: name, path: path, errno: code)
        }
    }

    /// close(2) is never retried: on Linux the descriptor is gone even after EINTR, and a
    /// retry could close a descriptor another thread has just been given.
    static func close(_ fd: Int32, _ path: String) throws(SystemCallError) {
        if Glibc.close(fd) == -1, errno != EINTR {
            throw SystemCallError(call: "close", path: path, errno: errno)
        }
    }

    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0) throws(SystemCallError) -> Int32 {
        try call("open", path) { Glibc.open(path, flags, mode) }
    }

    static func lstat(_ path: String) throws(SystemCallError) -> stat {
        var st = stat()
        try call("lstat", path) { Glibc.lstat(path, &st) }
        return st
    }

    /// lstat, or nil when nothing is at the path.
    static func lstatIfPresent(_ path: String) throws(SystemCallError) -> stat? {
        do {
            return try lstat(path)
        } catch where error.errno == ENOENT {
            return nil
        }
    }

    static func fstat(_ fd: Int32, _ path: String) throws(SystemCallError) -> stat {
        var st = stat()
        try call("fstat", path) { Glibc.fstat(fd, &st) }
        return st
    }

    static func fsync(_ fd: Int32, _ path: String) throws(SystemCallError) {
        try call("fsync", path) { Glibc.fsync(fd) }
    }

    /// Makes a folder's entries (creations, renames, unlinks) durable.
    static func fsyncDirectory(_ path: String) throws(SystemCallError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { try? close(fd, path) }
        try fsync(fd, path)
    }

    static func unlink(_ path: String) throws(SystemCallError) {
        try call("unlink", path) { Glibc.unlink(path) }
    }

    /// unlink; false when nothing was there.
    static func unlinkIfPresent(_ path: String) throws(SystemCallError) -> Bool {
        do {
            try unlink(path)
            return true
        } catch where error.errno == ENOENT {
            return false
        }
    }

    /// mkdir; false when something already exists at the path.
    static func mkdirIfAbsent(_ path: String, _ mode: mode_t) throws(SystemCallError) -> Bool {
        do {
            try call("mkdir", path) { Glibc.mkdir(path, mode) }
            return true
        } catch where error.errno == EEXIST {
            return false
        }
    }

    static func chmod(_ path: String, _ mode: mode_t) throws(SystemCallError) {
        try call("chmod", path) { Glibc.chmod(path, mode) }
    }

    static func rename(_ from: String, _ to: String) throws(SystemCallError) {
        try call("rename", "\(from) -> \(to)") { Glibc.rename(from, to) }
    }

    /// rename(2) that fails with EEXIST instead of replacing `to`.
    static func renameNoReplace(_ from: String, _ to: String) throws(SystemCallError) {
        guard let renameat2 = GlibcExtras.renameat2 else {
            // Kernels and libcs without renameat2: link + unlink is just as exclusive for
            // files; folders cannot be hard-linked, so fall back to a checked rename.
            do {
                try call("link", "\(from) -> \(to)") { Glibc.link(from, to) }
            } catch where error.errno == EPERM {
                if try lstatIfPresent(to) != nil {
                    throw SystemCallError(call: "rename", path: "\(from) -> \(to)", errno: EEXIST)
                }
                try rename(from, to)
                return
            }
            try unlink(from)
            return
        }
        try call("renameat2", "\(from) -> \(to)") {
            renameat2(AT_FDCWD, from, AT_FDCWD, to, GlibcExtras.renameNoReplace)
        }
    }

    /// Writes every byte, continuing after short writes.
    static func writeAll(_ fd: Int32, _ data: Data, _ path: String) throws(SystemCallError) {
        let result: Result<Void, SystemCallError> = data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return .success(()) }
            var offset = 0
            while offset < raw.count {
                do throws(SystemCallError) {
                    offset += try call("write", path) { Glibc.write(fd, base + offset, raw.count - offset) }
                } catch {
                    return .failure(error)
                }
            }
            return .success(())
        }
        try result.get()
    }

    /// Reads until end of file, but never more than `limit` bytes (the caller checks).
    static func readAll(_ fd: Int32, limit: Int, _ path: String) throws(SystemCallError) -> Data {
        var data = Data()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { chunk.deallocate() }
        while data.count < limit {
            let want = min(chunk.count, limit - data.count)
            let count = try call("read", path) { Glibc.read(fd, chunk.baseAddress, want) }
            if count == 0 { break }
            data.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        }
        return data
    }

    /// The names in a folder except `.` and `..`, with their lstat (entries that vanish
    /// while we look are left out).
    static func listDirectory(_ path: String) throws(SystemCallError) -> [(name: String, stat: stat)] {
        guard let dir = opendir(path) else {
            throw SystemCallError(call: "opendir", path: path, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw SystemCallError(call: "readdir", path: path, errno: errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        var result: [(name: String, stat: stat)] = []
        for name in names {
            if let st = try lstatIfPresent(path + "/" + name) {
                result.append((name, st))
            }
        }
        return result
    }
}

/// glibc functions that Swift's Glibc module map does not import (their headers need
/// _GNU_SOURCE or are not in the map), looked up once at run time.
enum GlibcExtras {
    typealias EventFDFunction = @convention(c) (UInt32, Int32) -> Int32
    typealias Renameat2Function = @convention(c) (
        Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32
    ) -> Int32

    /// `RENAME_NOREPLACE` from <linux/fs.h>.
    static let renameNoReplace: UInt32 = 1
    /// `EFD_CLOEXEC` and `EFD_NONBLOCK` share their values with the O_ flags.
    static let eventFDFlags: Int32 = O_CLOEXEC | O_NONBLOCK

    static let eventfd: EventFDFunction? = symbol("eventfd", as: EventFDFunction.self)
    static let renameat2: Renameat2Function? = symbol("renameat2", as: Renameat2Function.self)

    private static func symbol<F>(_ name: String, as type: F.Type) -> F? {
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: type)
    }
}

extension stat {
    var isRegularFile: Bool { st_mode & S_IFMT == S_IFREG }
    var isDirectory: Bool { st_mode & S_IFMT == S_IFDIR }
    var isSymbolicLink: Bool { st_mode & S_IFMT == S_IFLNK }
    var modificationDate: Date {
        Date(timeIntervalSince1970: TimeInterval(st_mtim.tv_sec) + TimeInterval(st_mtim.tv_nsec) / 1e9)
    }
    /// What kind of file it is, in words, for rejection reasons.
    var kindDescription: String {
        switch st_mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "an unknown kind of file"
        }
    }
}
