import Foundation
import HeroldCore
import HeroldSpool
import Logging
import Synchronization

/// Feeds the ingestor: a scan of `new/` first (files that came while herold was down),
/// then every file the watcher reports, a rescan when the watcher asks and every 5 minutes
/// as the truth, and the retries of files left for later. Retries go through one timer
/// (`RetryTimer`): however many files fail, one rescan at most is pending.
struct IngestLoop: Sendable {
    let spool: Spool
    let ingestor: Ingestor
    let reserve: StateReserve
    let logger: Logger
    let now: @Sendable () -> Date
    let runtime: @Sendable () -> Runtime
    let isStopping: @Sendable () -> Bool
    /// Called after an event with deliveries was recorded.
    let accepted: @Sendable () -> Void
    /// Told, on change only, what ingest waits for (a journal outage, files left for
    /// later), or nil when nothing.
    let status: @Sendable (String?) -> Void
    var policy = IngestRetries.Policy()
    var periodicRescan: Duration = .seconds(300)

    /// What the loop keeps between passes.
    struct State {
        var retries: IngestRetries
        /// Set while `new/` cannot be listed: when to try again.
        var listingRetry: Date?
        var lastStatus: String?
    }

    private enum Wake: Sendable { case spool(SpoolSignal), files, retry, periodic }

    /// Files the watcher reported, gathered until the loop takes them all at once.
    private final class Arrivals: Sendable {
        private let names = Mutex<(list: [String], armed: Bool)>(([], false))
        /// Adds a name; true when the loop must be woken (nobody woke it yet).
        func add(_ name: String) -> Bool {
            names.withLock { state in
                state.list.append(name)
                defer { state.armed = true }
                return !state.armed
            }
        }
        func takeAll() -> [String] {
            names.withLock { state in
                defer { state = ([], false) }
                return state.list
            }
        }
    }

    /// Files per journal transaction: a burst costs one fsync per batch, not per file.
    static let batchSize = 256

    func run(signals: AsyncStream<SpoolSignal>, ready: @Sendable () -> Void) async {
        let (wakes, input) = AsyncStream.makeStream(of: Wake.self)
        let arrivals = Arrivals()
        let forwarder = Task {
            for await signal in signals {
                if case .file(let name) = signal {
                    if arrivals.add(name) { input.yield(.files) }
                } else {
                    input.yield(.spool(signal))
                }
            }
            input.finish()
        }
        let every = periodicRescan
        let periodic = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: every)
                input.yield(.periodic)
            }
        }
        let timer = RetryTimer(now: now) { input.yield(.retry) }
        defer {
            forwarder.cancel()
            periodic.cancel()
            timer.cancel()
        }
        var state = State(retries: IngestRetries(policy: policy))
        _ = reserve.ensure()
        await scan(&state)
        ready()
        finishPass(&state, timer: timer)
        for await wake in wakes {
            if isStopping() { break }
            switch wake {
            case .spool(.file(let name)): await attempt([name], &state)
            case .files: await attempt(arrivals.takeAll(), &state)
            case .retry:
                timer.began()
                await scan(&state)
            case .spool(.rescan), .periodic: await scan(&state)
            }
            finishPass(&state, timer: timer)
        }
    }

    private func scan(_ state: inout State) async {
        let names: [String]
        do {
            names = try spool.listNew()
        } catch {
            if state.listingRetry == nil {
                logger.error("cannot list spool/new; trying again until it works", metadata: [
                    "error": "\(error)", "retry_every": "\(Int(policy.probeEvery))s",
                ])
            }
            state.listingRetry = now().addingTimeInterval(policy.probeEvery)
            return
        }
        if state.listingRetry != nil {
            logger.notice("spool/new can be listed again")
            state.listingRetry = nil
        }
        state.retries.keepOnly(Set(names))
        await attempt(names, &state)
    }

    /// Ingests those of `names` that do not wait out a delay (nor the journal being down),
    /// `batchSize` files per journal transaction.
    private func attempt(_ names: [String], _ state: inout State) async {
        var due: [String] = []
        for name in names where state.retries.isDue(name, now: now()) {
            if state.retries.outage != nil, !reserve.ensure() {
                // Still no room on the state disk: stay paused without trying the journal.
                _ = state.retries.failed(name, .noSpace("no room for the reserve on the state disk"), now: now())
                continue
            }
            due.append(name)
        }
        // Two batches at a time: the next one is read, parsed and planned while the journal
        // commits the previous one (on its own queue) and its files are removed.
        await withTaskGroup(of: [(String, Ingestor.Outcome)].self) { committing in
            var start = 0
            while start < due.count, !isStopping() {
                let batch = Array(due[start..<min(start + Self.batchSize, due.count)])
                start += batch.count
                let prepared = ingestor.prepare(batch, runtime: runtime())
                if let outcomes = await committing.next() { handle(outcomes, &state) }
                // A journal outage found by the previous batch holds this one back until it ends.
                let ready = prepared.keeping { state.retries.isDue($0, now: now()) }
                committing.addTask { await ingestor.commit(ready) }
            }
            if let outcomes = await committing.next() { handle(outcomes, &state) }
        }
    }

    private func handle(_ outcomes: [(String, Ingestor.Outcome)], _ state: inout State) {
        for (name, outcome) in outcomes { handle(name, outcome, &state) }
    }

    private func handle(_ name: String, _ outcome: Ingestor.Outcome, _ state: inout State) {
        switch outcome {
        case .accepted(let new, _, let deliveries):
            if deliveries > 0 { accepted() }
            settle(name, journalWrote: new > 0, &state)
        case .rejected, .gone:
            settle(name, journalWrote: false, &state)
        case .failed(let failure):
            var logger = logger
            logger[metadataKey: "spool.file"] = "\(name)"
            failed(name, failure, logger: logger, &state)
        }
    }

    /// Arms the retry timer for whatever waits, and reports a changed status.
    private func finishPass(_ state: inout State, timer: RetryTimer) {
        let wakes = [state.retries.nextWake, state.listingRetry].compactMap { $0 }
        if let next = wakes.min() { timer.request(at: next) }
        let text = Self.statusText(state)
        if text != state.lastStatus {
            state.lastStatus = text
            status(text)
        }
    }
}
