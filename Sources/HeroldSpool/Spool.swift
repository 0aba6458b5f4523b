import Foundation
import Glibc
import HeroldCore

/// The maildir-like spool: producers write in `tmp/` and rename into `new/`; herold reads
/// `new/`, removes a file once it is journaled, and moves what it cannot accept to
/// `rejected/` next to a `NAME.reason`.
///
/// Permissions chosen by `prepare()` (only for folders it creates; existing ones are left
/// as the administrator made them):
/// - root `0750`: producers in herold's group may traverse it, others may not look in;
/// - `tmp/`, `new/` `03770`: the group may write; set-group-ID so a producer's file gets
///   herold's group (its `0640` then lets herold read it); sticky so producers cannot
///   delete each other's files (herold owns the folders and may);
/// - `rejected/` `0750`: only herold writes there.
public struct Spool: Sendable {
    public let root: URL
    public let tmp: URL
    public let new: URL
    public let rejected: URL

    public static let rootMode: mode_t = 0o750
    public static let dropMode: mode_t = 0o3770
    public static let rejectedMode: mode_t = 0o750
    /// Mode of the files `enqueue` writes.
    public static let fileMode: mode_t = 0o640

    /// A spool rooted at `root` (not touched until `prepare()`).
    public init(root: URL) {
        self.root = root.standardizedFileURL
        self.tmp = self.root.appendingPathComponent("tmp", isDirectory: true)
        self.new = self.root.appendingPathComponent("new", isDirectory: true)
        self.rejected = self.root.appendingPathComponent("rejected", isDirectory: true)
    }

    /// Creates the root and `tmp/`, `new/`, `rejected/` if missing; refuses a root or
    /// sub-folder that is a symlink or not a folder.
    public func prepare() throws {
        let parent = root.deletingLastPathComponent()
        if try Syscall.lstatIfPresent(parent.path) == nil {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        }
        try Self.ensureDirectory(root.path, mode: Self.rootMode)
        try Self.ensureDirectory(tmp.path, mode: Self.dropMode)
        try Self.ensureDirectory(new.path, mode: Self.dropMode)
        try Self.ensureDirectory(rejected.path, mode: Self.rejectedMode)
    }

    private static func ensureDirectory(_ path: String, mode: mode_t) throws {
        if let st = try Syscall.lstatIfPresent(path) {
            guard st.isDirectory else {
                throw SpoolError("\(path) is \(st.kindDescription), not a directory: the spool refuses to use it")
            }
            return
        }
        guard try Syscall.mkdirIfAbsent(path, 0o700) else {
            // Someone else created it between lstat and mkdir: check it once more.
            return try ensureDirectory(path, mode: mode)
        }
        // mkdir's mode is filtered by the umask; chmod sets exactly what we mean.
        try Syscall.chmod(path, mode)
    }

    /// The names in `new/`, dotfiles left out, oldest first (modification time, then name).
    public func listNew() throws -> [String] {
        try Syscall.listDirectory(new.path)
            .filter { !$0.name.hasPrefix(".") }
            .sorted { a, b in
                let ta = a.stat.st_mtim, tb = b.stat.st_mtim
                if ta.tv_sec != tb.tv_sec { return ta.tv_sec < tb.tv_sec }
                if ta.tv_nsec != tb.tv_nsec { return ta.tv_nsec < tb.tv_nsec }
                return a.name < b.name
            }
            .map(\.name)
    }

    /// Reads `new/NAME`, refusing symlinks, anything but regular files, and files over
    /// `maxBytes`.
    public func read(_ name: String, maxBytes: Int) throws(SpoolReadError) -> Data {
        guard Self.isPlainName(name) else {
            throw .unacceptable(name: name, reason: "the name is not a plain file name")
        }
        let path = new.appendingPathComponent(name).path
        let fd: Int32
        do {
            // O_NONBLOCK: opening a FIFO must not wait for a writer.
            fd = try Syscall.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        } catch {
            switch error.errno {
            case ENOENT: throw .gone(name: name)
            case ELOOP: throw .unacceptable(name: name, reason: "the file is a symbolic link; only regular files are accepted")
            case ENXIO: throw .unacceptable(name: name, reason: "the file is a socket or device; only regular files are accepted")
            default: throw .io(name: name, error: error)
            }
        }
        defer { try? Syscall.close(fd, path) }
        let st: stat
        do {
            st = try Syscall.fstat(fd, path)
        } catch {
            throw .io(name: name, error: error)
        }
        guard st.isRegularFile else {
            throw .unacceptable(name: name, reason: "the file is \(st.kindDescription); only regular files are accepted")
        }
        guard st.st_size <= maxBytes else {
            throw .unacceptable(name: name, reason: Self.tooBig(Int(st.st_size), maxBytes))
        }
        let data: Data
        do {
            // One byte past the cap tells us the file grew after fstat.
            data = try Syscall.readAll(fd, limit: maxBytes + 1, path)
        } catch {
            throw .io(name: name, error: error)
        }
        guard data.count <= maxBytes else {
            throw .unacceptable(name: name, reason: Self.tooBig(data.count, maxBytes))
        }
        return data
    }

    private static func tooBig(_ size: Int, _ cap: Int) -> String {
        "the file is \(size) bytes, more than the limit of \(cap) bytes"
    }

    /// Moves `new/NAME` (whatever kind of file it is) to `rejected/`, next to a
    /// `NAME.reason`; never overwrites: a taken name gets a `.1`, `.2`… suffix.
    /// Returns the name it got in `rejected/`.
    @discardableResult
    public func reject(_ name: String, reason: String, now: Date = Date()) throws -> String {
        guard Self.isPlainName(name) else {
            throw SpoolError("cannot reject \(name): not a plain file name")
        }
        let source = new.appendingPathComponent(name).path
        for suffix in 0..<10_000 {
            let candidate = suffix == 0 ? name : "\(name).\(suffix)"
            let target = rejected.appendingPathComponent(candidate).path
            let reasonPath = target + ".reason"
            if try Syscall.lstatIfPresent(target) != nil || Syscall.lstatIfPresent(reasonPath) != nil {
                continue
            }
            // The reason goes first: a crash between the two steps leaves the file in
            // new/ (rejected again on restart), never a rejected file without a reason.
            let text = Self.reasonText(reason: reason, name: name, at: now)
            try Self.writeAtomically(Data(text.utf8), to: reasonPath, in: rejected.path)
            do {
                try Syscall.renameNoReplace(source, target)
            } catch {
                try? Syscall.unlink(reasonPath)
                if error.errno == EEXIST { continue }
                throw error
            }
            try Syscall.fsyncDirectory(rejected.path)
            try Syscall.fsyncDirectory(new.path)
            return candidate
        }
        throw SpoolError("cannot reject \(name): rejected/ holds too many files of that name")
    }

    static func reasonText(reason: String, name: String, at date: Date) -> String {
        // The first line must be the whole reason, so line breaks in it become spaces.
        let line = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
        return "\(line)\nfile: \(name)\nrejected-at: \(RFC3339.format(date))\n"
    }

    /// Removes `new/NAME` once its event is journaled; a file already gone is fine.
    public func remove(_ name: String) throws {
        guard Self.isPlainName(name) else {
            throw SpoolError("cannot remove \(name): not a plain file name")
        }
        if try Syscall.unlinkIfPresent(new.appendingPathComponent(name).path) {
            try Syscall.fsyncDirectory(new.path)
        }
    }

    /// The producer side: writes `data` to `tmp/`, fsyncs it, renames it into `new/`.
    /// Returns the file's name.
    @discardableResult
    public func enqueue(_ data: Data) throws -> String {
        let name = Self.uniqueName()
        let temporary = tmp.appendingPathComponent(name).path
        try Self.writeDurably(data, to: temporary)
        do {
            try Syscall.renameNoReplace(temporary, new.appendingPathComponent(name).path)
        } catch {
            try? Syscall.unlink(temporary)
            throw error
        }
        try Syscall.fsyncDirectory(new.path)
        return name
    }

    /// Removes files and symlinks in `tmp/` not modified for `olderThan` seconds: what
    /// producers that crashed left behind. Returns how many it removed.
    public func cleanTmp(olderThan age: TimeInterval, now: Date = Date()) throws -> Int {
        let cutoff = now.addingTimeInterval(-age)
        var removed = 0
        for entry in try Syscall.listDirectory(tmp.path) where !entry.stat.isDirectory {
            guard entry.stat.modificationDate < cutoff else { continue }
            if try Syscall.unlinkIfPresent(tmp.appendingPathComponent(entry.name).path) {
                removed += 1
            }
        }
        if removed > 0 { try Syscall.fsyncDirectory(tmp.path) }
        return removed
    }

    /// `<seconds>.<microseconds>P<pid>R<random hex>.json`: unique across processes and
    /// hosts sharing the folder, and sorting by arrival within a second.
    static func uniqueName() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let micro = String(Int(now.tv_nsec) / 1000)
        let padded = String(repeating: "0", count: max(0, 6 - micro.count)) + micro
        var rng = SystemRandomNumberGenerator()
        let random = String(rng.next() as UInt64, radix: 16)
        return "\(now.tv_sec).\(padded)P\(getpid())R\(random).json"
    }

    /// Creates `path` exclusively, writes and fsyncs it; on any failure nothing is left.
    static func writeDurably(_ data: Data, to path: String) throws {
        let fd = try Syscall.open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, fileMode)
        do {
            // Explicit, because the umask filtered the mode given to open.
            try Syscall.call("fchmod", path) { fchmod(fd, fileMode) }
            try Syscall.writeAll(fd, data, path)
            // A failed fsync means the data may not be on disk, and retrying it proves
            // nothing (the kernel may have dropped the dirty pages): give the file up.
            try Syscall.fsync(fd, path)
        } catch {
            try? Syscall.close(fd, path)
            try? Syscall.unlink(path)
            throw error
        }
        do {
            try Syscall.close(fd, path)
        } catch {
            try? Syscall.unlink(path)
            throw error
        }
    }

    /// Writes a file under a hidden temporary name in `directory`, then renames it over
    /// `path` and fsyncs the folder.
    static func writeAtomically(_ data: Data, to path: String, in directory: String) throws {
        let temporary = directory + "/." + uniqueName() + ".tmp"
        try writeDurably(data, to: temporary)
        do {
            try Syscall.rename(temporary, path)
        } catch {
            try? Syscall.unlink(temporary)
            throw error
        }
        try Syscall.fsyncDirectory(directory)
    }

    /// One path component: not empty, no `/` or NUL, not `.` or `..`.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}
