import Foundation
import Glibc
import HeroldCore

/// The maildir-like spool: producers write in `tmp/` and rename into `new/`; herold reads
/// `new/`, removes a file once it is journaled, and moves what it cannot accept to
/// `rejected/` next to a `NAME.reason`.
///
/// Modes and ownership: see `FolderPolicy`. The folders are opened once, by `prepare()`
/// (herold) or `prepareToEnqueue()` (a producer), and every operation goes through those
/// descriptors (see `SpoolFolders`). Everything is opened with `O_NOFOLLOW|O_NONBLOCK`: a
/// symlink is never followed and a FIFO never waited on.
///
/// Names are `SpoolName` texts: what `listNew()` and the watcher give is what `read`,
/// `reject` and `remove` take, also for a name that is not UTF-8.
public struct Spool: Sendable {
    public let root: URL
    public let tmp: URL
    public let new: URL
    public let rejected: URL
    private let folders: SpoolFolders
    /// `new`'s path, for the paths in error messages (built per file without `URL`).
    private let newPath: String

    /// Mode of the files `enqueue` writes and of `.reason` files.
    public static let fileMode: mode_t = 0o640

    /// A spool rooted at `root` (not touched until `prepare()`).
    public init(root: URL) {
        self.root = root.standardizedFileURL
        self.tmp = self.root.appendingPathComponent("tmp", isDirectory: true)
        self.new = self.root.appendingPathComponent("new", isDirectory: true)
        self.rejected = self.root.appendingPathComponent("rejected", isDirectory: true)
        self.folders = SpoolFolders(root: self.root)
        self.newPath = self.new.path
    }

    /// herold's start: creates the root and `tmp/`, `new/`, `rejected/` where missing (with
    /// `FolderPolicy`'s modes), opens them, and refuses (naming the folder, its mode and
    /// owner, and the fix) a folder that is a symlink, not a folder, not owned by the
    /// running user, or writable by producers where it must not be.
    public func prepare() throws {
        try createParent()
        try folders.open(SpoolFolders.Folder.allCases, strictness: .daemon)
    }

    /// A producer's start (`herold enqueue`): opens `tmp/` and `new/`, creating what is
    /// missing when it may; it need not own them.
    public func prepareToEnqueue() throws {
        try createParent()
        try folders.open([.tmp, .new], strictness: .producer)
    }

    private func createParent() throws {
        let parent = root.deletingLastPathComponent()
        if try Syscall.lstatIfPresent(parent.path) == nil {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        }
    }

    /// The names in `new/` (`SpoolName` texts), dotfiles left out, oldest first
    /// (modification time, then name).
    public func listNew() throws -> [String] {
        try Syscall.listDirectory(folders.descriptor(.new), path: new.path)
            .filter { !$0.name.isHidden }
            .map { (name: $0.name.text, stat: $0.stat) }
            .sorted { a, b in
                let ta = a.stat.st_mtim, tb = b.stat.st_mtim
                if ta.tv_sec != tb.tv_sec { return ta.tv_sec < tb.tv_sec }
                if ta.tv_nsec != tb.tv_nsec { return ta.tv_nsec < tb.tv_nsec }
                return a.name < b.name
            }
            .map(\.name)
    }

    /// Reads `new/NAME`, refusing names that are not UTF-8, symlinks, anything but
    /// regular files, and files over `maxBytes`.
    public func read(_ name: String, maxBytes: Int) throws(SpoolReadError) -> Data {
        let file = SpoolName(text: name)
        guard file.isPlain else {
            throw .unacceptable(name: name, reason: "the name is not a plain file name")
        }
        if let problem = file.encodingProblem {
            throw .unacceptable(name: name, reason: problem)
        }
        let path = newPath + "/" + name
        let fd: Int32
        do {
            // O_NONBLOCK: opening a FIFO must not wait for a writer.
            fd = try Syscall.openAt(folders.descriptor(.new), file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                                    path: path)
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
    /// `NAME.reason`; never overwrites: a taken name gets a `.1`, `.2`… suffix. In
    /// `rejected/` the file is named by its printable text (`za%BF%F3%B3.json` for a name
    /// that is not UTF-8). Returns that name.
    ///
    /// Both folders are checked again first (`SpoolFolders.recheck`): if either was moved
    /// or replaced since `prepare()`, nothing is written and the error says so.
    @discardableResult
    public func reject(_ name: String, reason: String, now: Date = Date()) throws -> String {
        let file = SpoolName(text: name)
        guard file.isPlain else {
            throw SpoolError("cannot reject \(name): not a plain file name")
        }
        let newFD = try folders.recheck(.new)
        let rejectedFD = try folders.recheck(.rejected)
        let text = Data(Self.reasonText(reason: reason, name: file.text, at: now).utf8)
        for suffix in 0..<10_000 {
            let printable = suffix == 0 ? file.text : "\(file.text).\(suffix)"
            let candidate = SpoolName(utf8: printable)
            let reasonName = SpoolName(utf8: printable + ".reason")
            let target = rejected.path + "/" + printable
            if try Syscall.statAtIfPresent(rejectedFD, candidate, path: target) != nil
                || Syscall.statAtIfPresent(rejectedFD, reasonName, path: target + ".reason") != nil {
                continue
            }
            // The reason goes first: a crash between the two steps leaves the file in
            // new/ (rejected again on restart), never a rejected file without a reason.
            guard try writeReason(text, as: reasonName, in: rejectedFD) else { continue }
            do {
                try Syscall.renameNoReplace(newFD, file, rejectedFD, candidate,
                                            path: "\(new.path)/\(name) -> \(target)")
            } catch {
                _ = try? Syscall.unlinkAtIfPresent(rejectedFD, reasonName, path: target + ".reason")
                if error.errno == EEXIST { continue }
                throw error
            }
            try Syscall.fsync(rejectedFD, rejected.path)
            try Syscall.fsync(newFD, new.path)
            return printable
        }
        throw SpoolError("cannot reject \(name): rejected/ holds too many files of that name")
    }

    /// Writes `rejected/NAME.reason` under a hidden temporary name, then renames it into
    /// place without replacing anything; false when the name was taken meanwhile.
    private func writeReason(_ text: Data, as reasonName: SpoolName, in rejectedFD: Int32) throws -> Bool {
        let temporary = SpoolName(utf8: "." + Self.uniqueName() + ".tmp")
        try Self.writeDurably(text, as: temporary, in: rejectedFD, folder: rejected.path)
        let path = rejected.path + "/" + reasonName.text
        do {
            try Syscall.renameNoReplace(rejectedFD, temporary, rejectedFD, reasonName, path: path)
            return true
        } catch {
            _ = try? Syscall.unlinkAtIfPresent(rejectedFD, temporary, path: path)
            if error.errno == EEXIST { return false }
            throw error
        }
    }

    static func reasonText(reason: String, name: String, at date: Date) -> String {
        // The first line must be the whole reason, so line breaks in it become spaces.
        let line = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
        return "\(line)\nfile: \(name)\nrejected-at: \(RFC3339.format(date))\n"
    }

    /// Removes `new/NAME` once its event is journaled; a file already gone is fine.
    public func remove(_ name: String) throws {
        if let error = remove([name])[name] { throw error }
    }

    /// Removes several files of `new/` once their events are journaled, with one fsync of
    /// the folder for all of them (a burst costs one, not one per file); a file already
    /// gone is fine. Returns the error of each name that could not be removed (or whose
    /// removal could not be made durable); an empty result means all went.
    public func remove(_ names: [String]) -> [String: any Error] {
        var failed: [String: any Error] = [:]
        let newFD: Int32
        do {
            newFD = try folders.descriptor(.new)
        } catch {
            for name in names { failed[name] = error }
            return failed
        }
        var removed: [String] = []
        for name in names {
            let file = SpoolName(text: name)
            guard file.isPlain else {
                failed[name] = SpoolError("cannot remove \(name): not a plain file name")
                continue
            }
            do {
                if try Syscall.unlinkAtIfPresent(newFD, file, path: newPath + "/" + name) {
                    removed.append(name)
                }
            } catch {
                failed[name] = error
            }
        }
        guard !removed.isEmpty else { return failed }
        do {
            try Syscall.fsync(newFD, new.path)
        } catch {
            for name in removed { failed[name] = error }
        }
        return failed
    }

    /// The producer side: writes `data` to `tmp/`, fsyncs it, renames it into `new/`.
    /// Returns the file's name.
    @discardableResult
    public func enqueue(_ data: Data) throws -> String {
        let text = Self.uniqueName()
        let name = SpoolName(utf8: text)
        let tmpFD = try folders.descriptor(.tmp), newFD = try folders.descriptor(.new)
        try Self.writeDurably(data, as: name, in: tmpFD, folder: tmp.path)
        do {
            try Syscall.renameNoReplace(tmpFD, name, newFD, name, path: "\(tmp.path)/\(text) -> \(new.path)/\(text)")
        } catch {
            _ = try? Syscall.unlinkAtIfPresent(tmpFD, name, path: "\(tmp.path)/\(text)")
            throw error
        }
        try Syscall.fsync(newFD, new.path)
        return text
    }

    /// Removes files and symlinks in `tmp/` not modified for `olderThan` seconds: what
    /// producers that crashed left behind. Returns how many it removed.
    public func cleanTmp(olderThan age: TimeInterval, now: Date = Date()) throws -> Int {
        try removeOld(in: .tmp, folder: tmp.path, olderThan: age, now: now) { entry, _ in entry.stat }
    }

    /// Retention for `rejected/`: removes each rejected file with its `NAME.reason` once the
    /// reason is older than `olderThan` seconds (a file kept its producer's time when moved
    /// here; the reason's time is when it was rejected). Returns how many files it removed.
    public func removeRejected(olderThan age: TimeInterval, now: Date = Date()) throws -> Int {
        try removeOld(in: .rejected, folder: rejected.path, olderThan: age, now: now) { entry, all in
            let reason = entry.name.text.hasSuffix(".reason") ? entry.name.text : entry.name.text + ".reason"
            return all[reason] ?? entry.stat
        }
    }

    /// Unlinks the entries (not folders) of `which` whose `age(entry, all)` time is before
    /// `now - olderThan`, through the held descriptor; fsyncs the folder if any went.
    private func removeOld(in which: SpoolFolders.Folder, folder: String, olderThan age: TimeInterval, now: Date,
                           timeOf: ((name: SpoolName, stat: stat), [String: stat]) -> stat) throws -> Int {
        let cutoff = now.addingTimeInterval(-age)
        let fd = try folders.descriptor(which)
        let entries = try Syscall.listDirectory(fd, path: folder).filter { !$0.stat.isDirectory }
        let all = Dictionary(entries.map { ($0.name.text, $0.stat) }, uniquingKeysWith: { a, _ in a })
        var removed = 0
        for entry in entries {
            guard timeOf(entry, all).modificationDate < cutoff else { continue }
            if try Syscall.unlinkAtIfPresent(fd, entry.name, path: "\(folder)/\(entry.name.text)") {
                removed += 1
            }
        }
        if removed > 0 { try Syscall.fsync(fd, folder) }
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

    /// Creates `NAME` in the folder `dir` exclusively (never through a symlink, never
    /// opening a FIFO), writes and fsyncs it; on any failure nothing is left.
    static func writeDurably(_ data: Data, as name: SpoolName, in dir: Int32, folder: String) throws {
        let path = folder + "/" + name.text
        let flags = O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        let fd = try Syscall.openAt(dir, name, flags, fileMode, path: path)
        do {
            // Explicit, because the umask filtered the mode given to open.
            try Syscall.fchmod(fd, fileMode, path)
            try Syscall.writeAll(fd, data, path)
            // A failed fsync means the data may not be on disk, and retrying it proves
            // nothing (the kernel may have dropped the dirty pages): give the file up.
            try Syscall.fsync(fd, path)
        } catch {
            try? Syscall.close(fd, path)
            _ = try? Syscall.unlinkAtIfPresent(dir, name, path: path)
            throw error
        }
        do {
            try Syscall.close(fd, path)
        } catch {
            _ = try? Syscall.unlinkAtIfPresent(dir, name, path: path)
            throw error
        }
    }
}
