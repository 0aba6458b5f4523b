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

    /// openat(2) of `name` in the folder `dir`; `path` names it in errors.
    static func openAt(_ dir: Int32, _ name: SpoolName, _ flags: Int32, _ mode: mode_t = 0,
                       path: String) throws(SystemCallError) -> Int32 {
        try call("openat", path) { name.withCString { Glibc.openat(dir, $0, flags, mode) } }
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

    /// fstatat(2) without following a symlink, or nil when nothing is there.
    static func statAtIfPresent(_ dir: Int32, _ name: SpoolName, path: String) throws(SystemCallError) -> stat? {
        var st = stat()
        do {
            try call("fstatat", path) { name.withCString { fstatat(dir, $0, &st, AT_SYMLINK_NOFOLLOW) } }
            return st
        } catch where error.errno == ENOENT {
            return nil
        }
    }

    static func fstat(_ fd: Int32, _ path: String) throws(SystemCallError) -> stat {
        var st = stat()
        try call("fstat", path) { Glibc.fstat(fd, &st) }
        return st
    }

    /// fsync(2); on a folder's descriptor it makes its entries (creations, renames,
    /// unlinks) durable.
    static func fsync(_ fd: Int32, _ path: String) throws(SystemCallError) {
        try call("fsync", path) { Glibc.fsync(fd) }
    }

    static func fchmod(_ fd: Int32, _ mode: mode_t, _ path: String) throws(SystemCallError) {
        try call("fchmod", path) { Glibc.fchmod(fd, mode) }
    }

    /// unlinkat(2); false when nothing was there.
    static func unlinkAtIfPresent(_ dir: Int32, _ name: SpoolName, path: String) throws(SystemCallError) -> Bool {
        do {
            try call("unlinkat", path) { name.withCString { Glibc.unlinkat(dir, $0, 0) } }
            return true
        } catch where error.errno == ENOENT {
            return false
        }
    }

    /// mkdir(2) (in `dir`, or by path with AT_FDCWD); false when something already exists there.
    static func mkdirAtIfAbsent(_ dir: Int32, _ name: SpoolName, _ mode: mode_t,
                                path: String) throws(SystemCallError) -> Bool {
        do {
            try call("mkdirat", path) { name.withCString { Glibc.mkdirat(dir, $0, mode) } }
            return true
        } catch where error.errno == EEXIST {
            return false
        }
    }

    /// renameat2(2) with RENAME_NOREPLACE: fails with EEXIST instead of replacing the target.
    static func renameNoReplace(_ fromDir: Int32, _ from: SpoolName, _ toDir: Int32, _ to: SpoolName,
                                path: String) throws(SystemCallError) {
        guard let renameat2 = GlibcExtras.renameat2 else {
            // Without renameat2, link + unlink is just as exclusive for files; other kinds
            // (a folder a producer put in new/) fall back to a checked rename.
            do {
                try call("linkat", path) { from.withCString { f in to.withCString { linkat(fromDir, f, toDir, $0, 0) } } }
            } catch where error.errno == EPERM {
                if try statAtIfPresent(toDir, to, path: path) != nil {
                    throw SystemCallError(call: "renameat", path: path, errno: EEXIST)
                }
                try call("renameat", path) { from.withCString { f in to.withCString { renameat(fromDir, f, toDir, $0) } } }
                return
            }
            _ = try unlinkAtIfPresent(fromDir, from, path: path)
            return
        }
        try call("renameat2", path) {
            from.withCString { f in to.withCString { renameat2(fromDir, f, toDir, $0, GlibcExtras.renameNoReplace) } }
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

    /// The names in the folder `dir` (as the kernel has them, bytes) except `.` and `..`,
    /// with their lstat; entries that vanish while we look are left out.
    static func listDirectory(_ dir: Int32, path: String) throws(SystemCallError) -> [(name: SpoolName, stat: stat)] {
        // A descriptor of its own: fdopendir takes it over, and its reading position
        // must not be shared with `dir`.
        let fd = try openAt(dir, SpoolName(bytes: [0x2E]), O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC, path: path)
        guard let stream = fdopendir(fd) else {
            let code = errno
            try? close(fd, path)
            throw SystemCallError(call: "fdopendir", path: path, errno: code)
        }
        defer { closedir(stream) }
        var names: [SpoolName] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw SystemCallError(call: "readdir", path: path, errno: errno) }
                break
            }
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if bytes == [0x2E] || bytes == [0x2E, 0x2E] { continue }
            names.append(SpoolName(bytes: bytes))
        }
        var result: [(name: SpoolName, stat: stat)] = []
        for name in names {
            if let st = try statAtIfPresent(dir, name, path: path + "/" + name.text) {
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
    /// Same file: same device and inode.
    func isSameFile(as other: stat) -> Bool { st_dev == other.st_dev && st_ino == other.st_ino }
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
