import Foundation
import Glibc
import Synchronization

/// The spool's folders, each opened once with `O_DIRECTORY|O_NOFOLLOW` and held open:
/// every later read, move and write goes through these descriptors (`openat`, `renameat2`,
/// `unlinkat`), so it reaches the folder herold checked, whatever a path has become since.
/// Before herold writes into `rejected/` it checks again that the path still leads to the
/// folder it holds (`recheck`), so a folder swapped for a symlink is reported, not used.
final class SpoolFolders: Sendable {
    enum Folder: String, CaseIterable, Sendable {
        case root, tmp, new, rejected
    }

    /// Who may write where. The daemon's rules (`prepare`) are strict; a producer
    /// (`enqueue`) only needs `tmp/` and `new/` to be real folders.
    enum Strictness: Sendable { case daemon, producer }

    let root: URL
    private let descriptors = Mutex<[Folder: Int32]>([:])

    init(root: URL) {
        self.root = root
    }

    deinit {
        descriptors.withLock { open in
            for (folder, fd) in open { try? Syscall.close(fd, path(folder)) }
        }
    }

    func path(_ folder: Folder) -> String {
        folder == .root ? root.path : root.appendingPathComponent(folder.rawValue).path
    }

    /// Creates what is missing (with `FolderPolicy`'s modes), opens the folders and checks
    /// them; keeps the descriptors of the first successful call.
    func open(_ folders: [Folder], strictness: Strictness) throws {
        let rootFD = try openFolder(.root, in: AT_FDCWD, name: SpoolName(utf8: root.path), strictness: strictness)
        var opened: [Folder: Int32] = [.root: rootFD]
        do {
            for folder in folders where folder != .root {
                opened[folder] = try openFolder(folder, in: rootFD, name: SpoolName(utf8: folder.rawValue),
                                                strictness: strictness)
            }
        } catch {
            for (folder, fd) in opened { try? Syscall.close(fd, path(folder)) }
            throw error
        }
        adopt(opened)
    }

    /// Takes the fresh descriptors of folders not yet held; closes the rest.
    private func adopt(_ opened: [Folder: Int32]) {
        descriptors.withLock { held in
            for (folder, fd) in opened {
                if held[folder] == nil {
                    held[folder] = fd
                } else {
                    try? Syscall.close(fd, path(folder))
                }
            }
        }
    }

    private func openFolder(_ folder: Folder, in parent: Int32, name: SpoolName, strictness: Strictness) throws -> Int32 {
        let path = path(folder)
        let created = try Syscall.mkdirAtIfAbsent(parent, name, 0o700, path: path)
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
        let opened = Result { () throws(SystemCallError) in try Syscall.openAt(parent, name, flags, path: path) }
        if case .failure(let error) = opened, error.errno == ELOOP || error.errno == ENOTDIR {
            let kind = (try? Syscall.statAtIfPresent(parent, name, path: path))?.kindDescription ?? "not a folder"
            throw SpoolError("""
                spool folder \(path) is \(kind), not a directory: herold refuses to use it (a link could lead \
                into another folder). Fix: replace it with a real folder owned by the user herold runs as \
                (systemd-tmpfiles --create creates the spool as systemd/herold.tmpfiles says)
                """)
        }
        let fd = try opened.get()
        do {
            // mkdir's mode is filtered by the umask; fchmod sets exactly what we mean.
            if created { try Syscall.fchmod(fd, FolderPolicy.mode(folder), path) }
            if strictness == .daemon, let problem = FolderPolicy.problem(folder, try Syscall.fstat(fd, path), path: path) {
                throw SpoolError(problem)
            }
        } catch {
            try? Syscall.close(fd, path)
            throw error
        }
        return fd
    }

    /// The held descriptor of `folder`.
    func descriptor(_ folder: Folder) throws(SystemCallError) -> Int32 {
        guard let fd = descriptors.withLock({ $0[folder] }) else {
            // A programming error: the spool was used before prepare().
            throw SystemCallError(call: "prepare", path: path(folder), errno: EBADF)
        }
        return fd
    }

    /// The held descriptor of `folder`, once more checked to be what its path leads to and
    /// still safe: a folder renamed away, replaced or made writable is refused.
    func recheck(_ folder: Folder) throws -> Int32 {
        let fd = try descriptor(folder)
        let rootFD = try descriptor(.root)
        let path = path(folder)
        let held = try Syscall.fstat(fd, path)
        let now = try Syscall.statAtIfPresent(rootFD, SpoolName(utf8: folder.rawValue), path: path)
        guard let now, now.isSameFile(as: held) else {
            let what = now.map { "is now \($0.kindDescription) that is not the folder herold opened" } ?? "is gone"
            throw SpoolError("""
                spool folder \(path) \(what): it was moved or replaced while herold runs, so herold writes \
                nothing there. Fix: put the folder back as it was and restart herold
                """)
        }
        if let problem = FolderPolicy.problem(folder, held, path: path) { throw SpoolError(problem) }
        return fd
    }
}
