import Foundation
import HeroldCore
import HeroldMetrics
import HeroldSpool
import HeroldStore
import Logging

/// The `pickup` of herold: takes files from `spool/new`, validates them, plans their
/// deliveries, makes both durable in the journal, and only then removes the file.
struct Ingestor: Sendable {
    let spool: Spool
    let journal: any DeliveryJournal
    let logger: Logger
    let now: @Sendable () -> Date
    var metrics: DaemonMetrics? = nil

    enum Outcome: Equatable {
        /// Recorded (some events may have been duplicates); the file is gone.
        case accepted(new: Int, duplicates: Int, deliveries: Int)
        /// Moved to `rejected/` with a reason.
        case rejected
        /// Somebody else removed it first.
        case gone
        /// Left in place: what went wrong decides when it is tried again (see `IngestRetries`).
        case failed(IngestFailure)
    }

    /// Handles one file in `new/`.
    func ingest(_ name: String, runtime: Runtime) async -> Outcome {
        await ingest([name], runtime: runtime)[0].1
    }

    /// Handles several files in `new/` with ONE journal transaction (one fsync) for all of
    /// their events; each file is removed only after that commit. Returns each name's
    /// outcome, in order.
    func ingest(_ names: [String], runtime: Runtime) async -> [(String, Outcome)] {
        await commit(prepare(names, runtime: runtime))
    }

    /// A file read and parsed, its events planned, waiting for its journal transaction.
    fileprivate struct Loaded: Sendable {
        var name: String
        var logger: Logger
        var events: [CloudEvent]
        /// Each event's deliveries, planned before the journal is asked; nil for an event
        /// an earlier file of the same batch has.
        var planned: [[Delivery]?] = []
        var batch: [(event: CloudEvent, deliveries: [Delivery])] = []
        var skipped = 0
    }

    /// What a file that needs no journal transaction comes to, done by `commit` (so that a
    /// batch prepared but then held back leaves its files untouched).
    fileprivate enum Decision: Sendable {
        case outcome(Outcome)
        case reject(reason: String, logger: Logger)
    }

    /// A batch of files read, parsed and planned (no journal asked, nothing moved): the
    /// first half of `ingest`, which the loop runs while the previous batch commits.
    struct Prepared: Sendable {
        fileprivate var names: [String]
        fileprivate var files: [Loaded] = []
        fileprivate var decided: [String: Decision] = [:]
        fileprivate var runtime: Runtime
        fileprivate var receivedAt: Date

        /// The same batch without the files `keep` refuses (they are left as they are).
        func keeping(_ keep: (String) -> Bool) -> Prepared {
            var kept = self
            kept.names = names.filter(keep)
            kept.files = files.filter { keep($0.name) }
            kept.decided = decided.filter { keep($0.key) }
            return kept
        }
    }

    /// Reads, parses and plans `names`.
    func prepare(_ names: [String], runtime: Runtime) -> Prepared {
        var prepared = Prepared(names: names, runtime: runtime, receivedAt: now())
        var seen: Set<EventKey> = []
        for name in names {
            switch load(name, runtime: runtime) {
            case .loaded(var file):
                file.planned = file.events.map { event in
                    guard seen.insert(event.key).inserted else { return nil }
                    return event.isWithdrawal ? [] : runtime.plan(event, now: prepared.receivedAt)
                }
                prepared.files.append(file)
            case .decided(let decision): prepared.decided[name] = decision
            }
        }
        return prepared
    }

    /// The second half of `ingest`: ONE journal transaction for the events of all the
    /// prepared files that are not in the journal yet; each file is removed only after that
    /// commit. When the journal refuses the batch's data, the files are tried one by one,
    /// so a poison file cannot hold up the others.
    func commit(_ prepared: Prepared) async -> [(String, Outcome)] {
        var outcomes: [String: Outcome] = [:]
        // In the order of the names, once per name (as when each was read and decided at once).
        for name in prepared.names where outcomes[name] == nil {
            switch prepared.decided[name] {
            case nil: break
            case .outcome(let outcome)?: outcomes[name] = outcome
            case .reject(let reason, let logger)?: outcomes[name] = reject(name, reason: reason, logger: logger)
            }
        }
        var loaded = prepared.files
        if !loaded.isEmpty {
            let runtime = prepared.runtime
            var recorded: [EventKey] = []
            do {
                let known = try await journal.recorded(among: loaded.flatMap { $0.events.map(\.key) })
                for index in loaded.indices { Self.select(&loaded[index], known: known) }
                let entries = loaded.flatMap(\.batch)
                let replaced: [DeliveryID]
                (recorded, replaced) = try await journal.recordReplacing(entries, receivedAt: prepared.receivedAt)
                Self.logReplaced(replaced, batch: entries, logger: logger)
            } catch {
                let failure = Self.failure(journal: error)
                if case .refused = failure, loaded.count > 1 {
                    for file in loaded { outcomes[file.name] = await ingest(file.name, runtime: runtime) }
                } else {
                    for file in loaded { outcomes[file.name] = .failed(failure) }
                }
                return prepared.names.map { ($0, outcomes[$0] ?? .gone) }
            }
            let fresh = Set(recorded)
            // Only now, with the journal committed, may the files go.
            let unremoved = spool.remove(loaded.map(\.name))
            for file in loaded { outcomes[file.name] = finish(file, recorded: fresh, removal: unremoved[file.name]) }
        }
        return prepared.names.map { ($0, outcomes[$0] ?? .gone) }
    }

    /// Reads and parses one file, or says what becomes of it (gone, rejected, unreadable).
    private func load(_ name: String, runtime: Runtime) -> Loading {
        var logger = logger
        logger[metadataKey: "spool.file"] = "\(name)"
        let bytes: Data
        do {
            bytes = try spool.read(name, maxBytes: runtime.config.maxEventBytes)
        } catch {
            switch error {
            case .gone:
                return .decided(.outcome(.gone))
            case .unacceptable(_, let reason):
                return .decided(.reject(reason: reason, logger: logger))
            case .io:
                return .decided(.outcome(.failed(.unreadable("cannot read it: \(error)"))))
            }
        }
        do {
            return .loaded(Loaded(name: name, logger: logger, events: try CloudEventParser.parse(bytes)))
        } catch {
            return .decided(.reject(reason: error.description, logger: logger))
        }
    }

    /// A file read and parsed, or what becomes of it without a journal transaction.
    fileprivate enum Loading {
        case loaded(Loaded)
        case decided(Decision)
    }

    /// After the commit and the files' removal: the file's log lines and outcome.
    private func finish(_ file: Loaded, recorded: Set<EventKey>, removal: (any Error)?) -> Outcome {
        let deliveryCount = Self.logAccepted(file.batch, recorded: recorded, logger: file.logger)
        if let removal {
            return .failed(.unreadable("its events are journaled but the file cannot be removed: \(removal)"))
        }
        let new = file.batch.filter { recorded.contains($0.event.key) }.count
        metrics?.eventsAccepted(new, duplicates: file.skipped + file.batch.count - new)
        return .accepted(new: new, duplicates: file.skipped + file.batch.count - new, deliveries: deliveryCount)
    }

    /// The file's events not yet in the journal, with their planned deliveries, into
    /// `batch`; the others (an earlier file of the batch has them, or the journal had them
    /// before: `known`) are counted in `skipped` and logged.
    private static func select(_ file: inout Loaded, known: Set<EventKey>) {
        file.batch = []
        file.skipped = 0
        for (event, planned) in zip(file.events, file.planned) {
            guard let deliveries = planned, !known.contains(event.key) else {
                file.skipped += 1
                file.logger.notice("duplicate event dropped", metadata: [
                    "event.source": "\(event.source)", "event.id": "\(event.id)",
                ])
                continue
            }
            file.batch.append((event, deliveries))
        }
    }

    /// One line per event recorded (and per held delivery); returns the deliveries recorded.
    private static func logAccepted(_ batch: [(event: CloudEvent, deliveries: [Delivery])], recorded: Set<EventKey>,
                                    logger: Logger) -> Int {
        var deliveryCount = 0
        for (event, deliveries) in batch where recorded.contains(event.key) {
            deliveryCount += deliveries.count
            logger.info("event accepted", metadata: [
                "event.source": "\(event.source)", "event.id": "\(event.id)", "event.type": "\(event.type)",
                "deliveries": "\(deliveries.count)",
                "held": "\(deliveries.filter { $0.state == .held }.count)",
            ])
            for held in deliveries where held.state == .held {
                logger.warning("delivery held", metadata: [
                    "delivery.id": "\(held.id)", "rule": "\(held.rule)",
                    "recipient": "\(held.recipient)", "reason": "\(held.reason ?? "")",
                ])
            }
            if deliveries.isEmpty, !event.isWithdrawal {
                logger.notice("no rule matched the event", metadata: [
                    "event.id": "\(event.id)", "event.type": "\(event.type)",
                ])
            }
        }
        return deliveryCount
    }

    /// Moves `name` to `rejected/` with `reason`.
    func reject(_ name: String, reason: String, logger: Logger) -> Outcome {
        do {
            _ = try spool.reject(name, reason: reason)
            logger.warning("spool file rejected", metadata: ["reason": "\(reason)"])
            metrics?.fileRejected()
            return .rejected
        } catch {
            return .failed(.unreadable("cannot move it to rejected/ (reason: \(reason)): \(error)"))
        }
    }

    /// A journal error is the file's own fault only when the journal refused its data
    /// (a constraint, a value it cannot hold); busy, full, I/O and damage stop all ingest.
    static func failure(journal error: any Error) -> IngestFailure {
        guard let error = error as? JournalError else { return .journalDown("\(error)") }
        if error.isDiskFull { return .noSpace(error.description) }
        switch error.kind {
        case .transient, .corrupt: return .journalDown(error.description)
        case .invalid, .notFound: return .refused(error.description)
        }
    }
}
