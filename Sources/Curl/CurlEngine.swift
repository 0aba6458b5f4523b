import CCurl
import Foundation
import Synchronization

/// Runs every curl transfer of the process on a few dedicated threads with libcurl's multi
/// interface, so slow servers never block Swift's (small) cooperative thread pool.
///
/// More than one thread because libcurl's SMTP waits for the reply to the end of DATA in a
/// blocking loop (`smtp_done`), stalling every other transfer of the same multi handle; each
/// stall widens the window between a server's "250 OK" and the journal's record of it. So
/// mail gets a thread per message under way (up to `maxMailThreads`), started when first
/// needed: a relay that takes a second to answer DATA has all of `smtp.max_connections`
/// answering at once, not one per thread. Webhooks, which libcurl drives without blocking,
/// share a fixed few.
public final class CurlEngine: Sendable {
    /// The engine threads and which transfers each has under way.
    private struct Threads {
        var loops: [EngineShared] = []
        /// Indices into `loops` of the threads for mail, and for webhooks (the same one
        /// thread for both when the engine has a single thread).
        var mail: [Int] = []
        var hooks: [Int] = []
        /// The mail threads started with the engine: a server's home thread is among them,
        /// so it stays the same however many more start.
        var firstMail = 1
        /// Transfers under way, by server and by thread (see `take`).
        var busy: [String: [Int: Int]] = [:]
        var stopped = false
    }

    private let threads: Mutex<Threads>
    private let maxMailThreads: Int

    /// Starts `threads` engine threads (each with its own multi handle and connection cache):
    /// half for mail, half for webhooks (one thread: both on it). Mail threads are added, when
    /// a server's messages under way outnumber them, up to `maxMailThreads`.
    public init(threads count: Int = 4, maxMailThreads: Int = 16) throws(CurlError) {
        guard CurlGlobal.initialised else {
            throw CurlError(code: CurlError.Code.failedInit, message: "curl_global_init failed")
        }
        var state = Threads()
        for _ in 0..<max(1, count) {
            guard let shared = Self.startLoop(named: "herold-curl-\(state.loops.count)") else {
                state.loops.forEach { $0.stop() }
                throw CurlError(code: CurlError.Code.failedInit, message: "curl_multi_init failed")
            }
            state.loops.append(shared)
        }
        let all = Array(state.loops.indices)
        let forMail = state.loops.count > 1 ? state.loops.count / 2 : 1
        state.mail = Array(all.prefix(forMail))
        state.hooks = state.loops.count > 1 ? Array(all.dropFirst(forMail)) : all
        state.firstMail = forMail
        self.maxMailThreads = state.loops.count > 1 ? max(forMail, maxMailThreads) : 1
        self.threads = Mutex(state)
    }

    deinit { shutdown() }

    /// A new engine thread with its own multi handle; nil when libcurl cannot make one.
    private static func startLoop(named name: String) -> EngineShared? {
        guard let multi = curl_multi_init() else { return nil }
        let shared = EngineShared(multi: multi)
        let thread = Thread { EngineLoop(shared: shared).run() }
        thread.name = name
        thread.start()
        return shared
    }

    /// Runs one transfer to completion. A cancelled task aborts its transfer.
    public func perform(_ request: CurlRequest) async throws(CurlError) -> CurlResponse {
        let (shared, index, origin) = take(for: request)
        defer { threads.withLock { $0.busy[origin]?[index, default: 1] -= 1 } }
        let id = shared.nextID()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: Transfer.Continuation) in
                if !shared.submit(.add(id, request, continuation)) {
                    continuation.resume(returning: .failure(EngineShared.shutDownError))
                }
            }
        } onCancel: {
            _ = shared.submit(.cancel(id))
        }
        return try result.get()
    }

    /// The thread for a transfer, counted as busy with it, and the server it goes to.
    ///
    /// A server's transfers go to its own thread (chosen by hashing the server), whose multi
    /// handle caches that server's connections: messages share SMTP sessions, webhooks reuse
    /// kept-alive HTTP connections. (libcurl cannot share one connection cache between threads
    /// safely.) When that thread already has more of the server's transfers under way than
    /// another thread of its kind, the transfer goes to the least busy one, which keeps its
    /// own connections to the server. A message finding every mail thread busy with its
    /// server starts one more (up to `maxMailThreads`): each session then waits for its reply
    /// to DATA on a thread of its own. One transfer at a time always takes the server's own
    /// thread and its one session. At most as many connections are open as transfers were
    /// under way at once.
    ///
    /// Mail and webhooks never share a thread (with two threads or more): a relay sitting on
    /// its reply to DATA must not hold up the webhooks of a thread it happened to share.
    private func take(for request: CurlRequest) -> (EngineShared, index: Int, origin: String) {
        let (url, mail) = switch request {
        case .smtp(let transfer): (transfer.url, true)
        case .httpPost(let post): (post.url, false)
        }
        let origin = Self.origin(of: url)
        let hash = Self.hash(origin)
        return threads.withLock { state in
            let kind = mail ? state.mail : state.hooks
            let home = kind[Int(hash % UInt64(mail ? state.firstMail : kind.count))]
            var counts = state.busy[origin] ?? [:]
            var index = Self.leastBusy(counts, among: kind, home: home)
            if mail, counts[index, default: 0] > 0, state.mail.count < maxMailThreads, !state.stopped,
               let added = Self.startLoop(named: "herold-curl-\(state.loops.count)") {
                index = state.loops.count
                state.loops.append(added)
                state.mail.append(index)
            }
            counts[index, default: 0] += 1
            state.busy[origin] = counts
            return (state.loops[index], index, origin)
        }
    }

    /// The thread among `kind` with the fewest transfers under way, `home` when it is among them.
    static func leastBusy(_ counts: [Int: Int], among kind: [Int], home: Int) -> Int {
        var best = home
        for index in kind where counts[index, default: 0] < counts[best, default: 0] { best = index }
        return best
    }

    /// FNV-1a: stable across runs, unlike `hashValue`.
    static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return hash
    }

    /// `scheme://authority` of a URL, lower-cased: what a cached connection is for.
    static func origin(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url.lowercased() }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return (url[..<schemeEnd.upperBound] + authority).lowercased()
    }

    /// The engine threads now: how many run mail, and how many webhooks.
    public var threadCounts: (mail: Int, webhooks: Int) {
        threads.withLock { ($0.mail.count, $0.hooks.count) }
    }

    /// Stops the engine threads; transfers still running fail with code 42, later ones at once.
    public func shutdown() {
        let loops = threads.withLock { state -> [EngineShared] in
            state.stopped = true
            return state.loops
        }
        loops.forEach { $0.stop() }
    }
}

/// State shared between callers and the engine thread.
final class EngineShared: Sendable {
    enum Operation: Sendable {
        case add(UInt64, CurlRequest, Transfer.Continuation)
        case cancel(UInt64)
    }

    struct Inbox {
        var operations: [Operation] = []
        var nextID: UInt64 = 1
        var stopping = false
        /// Set (under the lock) just before the loop frees the multi handle.
        var closed = false
    }

    static let shutDownError = CurlError(code: CurlError.Code.abortedByCallback, message: "curl engine is shut down")

    let inbox = Mutex(Inbox())
    /// `CURLM *` is a raw pointer, hence the `nonisolated(unsafe)`. Safe because: the engine thread
    /// is the only one that calls curl with it, except `curl_multi_wakeup`, which libcurl documents
    /// as callable from any thread, and which we only call under `inbox`'s lock while `closed` is
    /// false (the loop sets `closed` under the same lock before `curl_multi_cleanup`).
    nonisolated(unsafe) let multi: UnsafeMutableRawPointer

    init(multi: UnsafeMutableRawPointer) { self.multi = multi }

    func nextID() -> UInt64 {
        inbox.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    /// Queues an operation and wakes the loop; false once the engine is stopping. Only the
    /// first operation of a batch wakes it: the loop takes the whole inbox at once, so
    /// operations queued before it does are seen without another wakeup (one syscall and
    /// one thread wake per batch of transfers, not per transfer).
    func submit(_ operation: Operation) -> Bool {
        inbox.withLock { state in
            guard !state.stopping, !state.closed else { return false }
            state.operations.append(operation)
            if state.operations.count == 1 { curl_multi_wakeup(multi) }
            return true
        }
    }

    func stop() {
        inbox.withLock { state in
            guard !state.stopping, !state.closed else { return }
            state.stopping = true
            curl_multi_wakeup(multi)
        }
    }

    func take() -> (operations: [Operation], stopping: Bool) {
        inbox.withLock { state in
            defer { state.operations.removeAll() }
            return (state.operations, state.stopping)
        }
    }
}

/// The engine thread's own state: created on that thread, never shared.
private final class EngineLoop {
    let shared: EngineShared
    var multi: UnsafeMutableRawPointer { shared.multi }
    var transfers: [UInt64: Transfer] = [:]
    var byHandle: [UnsafeMutableRawPointer: UInt64] = [:]
    var cancelledEarly: Set<UInt64> = []

    init(shared: EngineShared) { self.shared = shared }

    func run() {
        while true {
            let (operations, stopping) = shared.take()
            for operation in operations { apply(operation) }
            if stopping { break }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            collectFinished()
            // curl_multi_poll also wakes for curl's own timers, and for curl_multi_wakeup.
            if curl_multi_poll(multi, nil, 0, 1000, nil) != CURLM_OK {
                usleep(10_000)  // never spin if polling itself fails (out of memory, fd limit)
            }
        }
        // Fail what is left (including operations queued while stopping), then close.
        for operation in shared.take().operations {
            if case .add(_, _, let continuation) = operation {
                continuation.resume(returning: .failure(EngineShared.shutDownError))
            }
        }
        for id in Array(transfers.keys) { finish(id, with: .failure(EngineShared.shutDownError)) }
        shared.inbox.withLock { $0.closed = true }
        for operation in shared.take().operations {
            if case .add(_, _, let continuation) = operation {
                continuation.resume(returning: .failure(EngineShared.shutDownError))
            }
        }
        curl_multi_cleanup(multi)
    }

    private func apply(_ operation: EngineShared.Operation) {
        switch operation {
        case .add(let id, let request, let continuation):
            if cancelledEarly.remove(id) != nil {
                continuation.resume(returning: .failure(Self.cancelledError))
                return
            }
            do {
                let transfer = try Transfer(id: id, continuation: continuation)
                do {
                    try transfer.configure(request)
                } catch {
                    continuation.resume(returning: .failure(error))
                    return
                }
                let rc = curl_multi_add_handle(multi, transfer.handle.raw)
                guard rc == CURLM_OK else {
                    continuation.resume(returning: .failure(CurlError(
                        code: CurlError.Code.failedInit,
                        message: "curl_multi_add_handle: " + String(cString: curl_multi_strerror(rc)))))
                    return
                }
                transfers[id] = transfer
                byHandle[transfer.handle.raw] = id
            } catch {
                continuation.resume(returning: .failure(error))
            }
        case .cancel(let id):
            if transfers[id] != nil {
                finish(id, with: .failure(Self.cancelledError))
            } else {
                cancelledEarly.insert(id)
            }
        }
    }

    static let cancelledError = CurlError(code: CurlError.Code.abortedByCallback, message: "transfer cancelled")

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let id = byHandle[easy], let transfer = transfers[id]
            else { continue }
            finish(id, with: transfer.result(message.pointee.data.result))
        }
    }

    private func finish(_ id: UInt64, with result: Result<CurlResponse, CurlError>) {
        guard let transfer = transfers.removeValue(forKey: id) else { return }
        byHandle.removeValue(forKey: transfer.handle.raw)
        curl_multi_remove_handle(multi, transfer.handle.raw)
        transfer.continuation.resume(returning: result)
    }
}
