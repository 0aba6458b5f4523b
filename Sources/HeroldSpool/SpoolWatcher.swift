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
/// Create the watcher *before* scanning `new/` on start, so no file falls between the
/// scan and the watch; a file may then be reported twice, which the consumer tolerates
/// (a second read finds it `gone`, or the journal finds a duplicate).
public final class SpoolWatcher: Sendable {
    /// The signals, in order; the stream ends after `stop()` or when the watch fails
    /// (then `failure` says why).
    public let signals: AsyncStream<SpoolSignal>
    /// The folder watched.
    public let directory: URL
    private let shared: Shared

    static let watchMask: UInt32 = UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE)
        | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR) | UInt32(IN_DONT_FOLLOW)

    /// Watches `spool.new`.
    public convenience init(spool: Spool) throws {
        try self.init(directory: spool.new)
    }

    /// Watches `directory`; the watch is in place when this returns.
    public init(directory: URL) throws {
        self.directory = directory
        let path = directory.path
        let inotifyFD = try Syscall.call("inotify_init1", path) { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        let wd: Int32
        let wakeFD: Int32
        do {
            wd = try Syscall.call("inotify_add_watch", path) { inotify_add_watch(inotifyFD, path, Self.watchMask) }
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
        let loop = EventLoop(path: path, inotifyFD: inotifyFD, wakeFD: wakeFD, watch: wd,
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

/// The watcher thread's loop; owns the descriptors until it exits.
private struct EventLoop: Sendable {
    let path: String
    let inotifyFD: Int32
    let wakeFD: Int32
    var watch: Int32
    let continuation: AsyncStream<SpoolSignal>.Continuation
    let shared: Shared

    /// inotify_event: int wd; uint32 mask, cookie, len; then `len` bytes of NUL-padded name.
    static let headerSize = 16

    func run() {
        var loop = self
        let failure = loop.loop()
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
    private mutating func loop() -> SpoolError? {
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

    /// Parses a batch of inotify records and yields their signals.
    private mutating func handle(_ bytes: UnsafeRawBufferPointer) -> SpoolError? {
        var offset = 0
        while offset + Self.headerSize <= bytes.count {
            let wd = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameStart = offset + Self.headerSize
            let nameEnd = min(nameStart + length, bytes.count)
            let name = String(decoding: bytes[nameStart..<nameEnd].prefix { $0 != 0 }, as: UTF8.self)
            offset = nameStart + length

            if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                continuation.yield(.rescan)
                continue
            }
            // Events of a watch we already replaced (its IN_IGNORED, late ones) mean nothing.
            guard wd == watch else { continue }
            let lost = UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_IGNORED) | UInt32(IN_UNMOUNT)
            if mask & lost != 0 {
                if let failure = rewatch() { return failure }
                continuation.yield(.rescan)
                continue
            }
            if mask & (UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE)) != 0, !name.isEmpty, !name.hasPrefix(".") {
                continuation.yield(.file(name))
            }
        }
        return nil
    }

    /// The folder was removed or moved away: watch whatever is at the path now.
    private mutating func rewatch() -> SpoolError? {
        _ = inotify_rm_watch(inotifyFD, watch)
        do {
            let fd = inotifyFD, path = self.path
            watch = try Syscall.call("inotify_add_watch", path) {
                inotify_add_watch(fd, path, SpoolWatcher.watchMask)
            }
            return nil
        } catch {
            return SpoolError("\(path) was removed or moved away and cannot be watched again: \(error)")
        }
    }
}
