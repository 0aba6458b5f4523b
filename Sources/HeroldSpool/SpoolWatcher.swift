import Dispatch
import Foundation
import Glibc
import Synchronization

/// What the watcher tells its consumer.
public enum SpoolSignal: Sendable, Equatable {
    /// A file arrived in `new/` under this name (renamed in, or written and closed there).
    case file(String)
    /// Events may have been lost (queue overflow, the folder was replaced): scan `new/`.
    case rescan
}

/// Watches `new/` with inotify on a thread of its own (the cooperative pool is too small
/// to park a blocking poll on) and turns events into `SpoolSignal`s.
///
/// If the folder is moved, deleted, unmounted or replaced, or reading the events fails,
/// the stream ends and `failure` names the folder and what happened. The watcher does not
/// watch the path again: the spool's descriptors (see `SpoolFolders`) still hold the old
/// folder, so the only safe answer is a new start, which checks the folders afresh.
///
/// Create the watcher *before* scanning `new/` on start, so no file falls between the
/// scan and the watch; a file may then be reported twice, which the consumer tolerates
/// (a second read finds it `gone`, or the journal finds a duplicate).
public final class SpoolWatcher: Sendable {
    /// The signals, in order; the stream ends after `stop()` or when the watch is lost or
    /// fails (then `failure` says why).
    public let signals: AsyncStream<SpoolSignal>
    /// The folder watched.
    public let directory: URL
    private let shared: Shared

    static let watchMask: UInt32 = UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE)
        | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW)
    /// The parent is watched for the folder's own entry: a folder that is deleted while
    /// the spool holds it open gets its IN_DELETE_SELF only when the last descriptor
    /// closes, but its parent's IN_DELETE comes at once.
    static let parentMask: UInt32 = UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM) | UInt32(IN_MOVED_TO)
        | UInt32(IN_CREATE) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW)

    /// Watches `spool.new`.
    public convenience init(spool: Spool) throws {
        try self.init(directory: spool.new)
    }

    /// Watches `directory`; the watch is in place when this returns.
    public init(directory: URL) throws {
        self.directory = directory
        let path = directory.path
        let inotifyFD = try Syscall.call("inotify_init1", path) { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        let parent = directory.deletingLastPathComponent().path
        let watches: Watches
        let wakeFD: Int32
        do {
            watches = Watches(
                folder: try Syscall.call("inotify_add_watch", path) { inotify_add_watch(inotifyFD, path, Self.watchMask) },
                parent: try Syscall.call("inotify_add_watch", parent) { inotify_add_watch(inotifyFD, parent, Self.parentMask) },
                name: Array(directory.lastPathComponent.utf8), parentPath: parent)
            guard let eventfd = GlibcExtras.eventfd else {
                throw SpoolError("eventfd is not available in this C library")
            }
            wakeFD = try Syscall.call("eventfd", path) { eventfd(0, GlibcExtras.eventFDFlags) }
        } catch {
            try? Syscall.close(inotifyFD, path)
            throw error
        }
        let (stream, continuation) = AsyncStream.makeStream(of: SpoolSignal.self, bufferingPolicy: .unbounded)
        let shared = Shared(wakeFD: wakeFD)
        self.signals = stream
        self.shared = shared
        // A consumer that stops listening stops the thread (without waiting: this may run
        // on the watcher thread itself, when it finishes the stream).
        continuation.onTermination = { _ in shared.requestStop() }
        let loop = EventLoop(path: path, inotifyFD: inotifyFD, wakeFD: wakeFD, watches: watches,
                             continuation: continuation, shared: shared)
        shared.exited.enter()
        let thread = Thread { loop.run() }
        thread.name = "herold-spool-watcher"
        thread.start()
    }

    deinit {
        shared.requestStop()
    }

    /// Why the stream ended on its own, if it did: the watch was lost or a call failed.
    public var failure: SpoolError? {
        shared.state.withLock { $0.failure }
    }

    /// Stops watching: the thread exits, closes its descriptors and finishes the stream
    /// before this returns. Calling it again does nothing.
    public func stop() {
        shared.requestStop()
        shared.exited.wait()
    }
}

/// State shared by the watcher object and its thread.
private final class Shared: Sendable {
    struct State {
        /// The eventfd that wakes the thread; -1 once the thread closed it.
        var wakeFD: Int32
        var failure: SpoolError?
    }

    let state: Mutex<State>
    /// Left once when the thread has closed its descriptors and finished the stream.
    let exited = DispatchGroup()

    init(wakeFD: Int32) {
        state = Mutex(State(wakeFD: wakeFD))
    }

    /// Wakes the thread so it exits; harmless once it has.
    func requestStop() {
        state.withLock { state in
            // Under the lock, so the descriptor cannot be closed (and its number reused)
            // between the check and the write.
            guard state.wakeFD >= 0 else { return }
            var one: UInt64 = 1
            _ = Glibc.write(state.wakeFD, &one, MemoryLayout<UInt64>.size)
        }
    }
}

/// The two inotify watches: the folder, and its parent for the folder's own entry.
private struct Watches: Sendable {
    let folder: Int32
    let parent: Int32
    /// The folder's name in its parent.
    let name: [UInt8]
    let parentPath: String
}

/// The watcher thread's loop; owns the descriptors until it exits.
private struct EventLoop: Sendable {
    let path: String
    let inotifyFD: Int32
    let wakeFD: Int32
    let watches: Watches
    let continuation: AsyncStream<SpoolSignal>.Continuation
    let shared: Shared

    /// inotify_event: int wd; uint32 mask, cookie, len; then `len` bytes of NUL-padded name.
    static let headerSize = 16

    func run() {
        let failure = loop()
        shared.state.withLock { state in
            state.failure = failure
            try? Syscall.close(inotifyFD, path)
            try? Syscall.close(wakeFD, path)
            state.wakeFD = -1
        }
        continuation.finish()
        shared.exited.leave()
    }

    /// Runs until asked to stop (nil) or until something fails (the error).
    private func loop() -> SpoolError? {
        // Room for many events; one needs at most 16 + NAME_MAX + 1 bytes.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        var fds = [
            pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            do {
                try Syscall.call("poll", path) { poll(&fds, 2, -1) }
            } catch {
                return SpoolError("watching \(path) failed: \(error)")
            }
            if fds[1].revents != 0 { return nil }
            guard fds[0].revents != 0 else { continue }
            if fds[0].revents & Int16(POLLIN) == 0 {
                return SpoolError("watching \(path) failed: the inotify descriptor reported an error")
            }
            let count: Int
            do throws(SystemCallError) {
                let fd = inotifyFD
                count = try Syscall.call("read", path) { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            } catch where error.errno == EAGAIN {
                continue
            } catch {
                return SpoolError("watching \(path) failed: \(error)")
            }
            if let failure = handle(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) { return failure }
        }
    }

    /// Parses a batch of inotify records and yields their signals; returns why the watch
    /// ended, if it did.
    private func handle(_ bytes: UnsafeRawBufferPointer) -> SpoolError? {
        var offset = 0
        while offset + Self.headerSize <= bytes.count {
            let wd = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameStart = offset + Self.headerSize
            let nameEnd = min(nameStart + length, bytes.count)
            // The name's bytes as the kernel has them: a name that is not UTF-8 keeps its
            // identity (as a SpoolName text) instead of becoming U+FFFD.
            let name = SpoolName(bytes: Array(bytes[nameStart..<nameEnd].prefix { $0 != 0 }))
            offset = nameStart + length

            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                continuation.yield(.rescan)
                continue
            }
            if wd == watches.parent {
                if let lost = Self.lost(mask, selfEvents: true) {
                    return SpoolError("spool folder \(path): its parent \(watches.parentPath) \(lost); herold no longer sees new files there")
                }
                if name.bytes == watches.name, let lost = Self.lost(mask, selfEvents: false) {
                    return SpoolError("spool folder \(path) \(lost); herold no longer sees new files there")
                }
                continue
            }
            guard wd == watches.folder else { continue }
            if let lost = Self.lost(mask, selfEvents: true) {
                return SpoolError("spool folder \(path) \(lost); herold no longer sees new files there")
            }
            if mask & (UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE)) != 0, !name.bytes.isEmpty, !name.isHidden {
                continuation.yield(.file(name.text))
            }
        }
        return nil
    }

    /// What an event that ends the watch says happened: to the watched folder itself
    /// (`selfEvents`), or to the entry of that name in the watched parent. nil: nothing.
    static func lost(_ mask: UInt32, selfEvents: Bool) -> String? {
        let meanings: [(Int32, String)] = selfEvents
            ? [(IN_MOVE_SELF, "was moved away (IN_MOVE_SELF)"), (IN_DELETE_SELF, "was deleted (IN_DELETE_SELF)"),
               (IN_UNMOUNT, "was unmounted (IN_UNMOUNT)"), (IN_IGNORED, "is no longer watched (IN_IGNORED)")]
            : [(IN_MOVED_FROM, "was moved away (IN_MOVED_FROM)"), (IN_DELETE, "was deleted (IN_DELETE)"),
               (IN_MOVED_TO, "was replaced (IN_MOVED_TO)"), (IN_CREATE, "was replaced (IN_CREATE)")]
        return meanings.first { mask & UInt32($0.0) != 0 }?.1
    }
}
