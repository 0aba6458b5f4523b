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

    /// A file read and parsed, waiting for its journal transaction.
    private struct Loaded {
        var name: String
        var logger: Logger
        var events: [CloudEvent]
        var batch: [(event: CloudEvent, deliveries: [Delivery])] = []
        var skipped = 0
    }

    /// Handles several files in `new/` with ONE journal transaction (one fsync) for all of
    /// their events; each file is removed only after that commit. When the journal refuses
    /// the batch's data, the files are tried one by one, so a poison file cannot hold up the
    /// others. Returns each name's outcome, in order.
    func ingest(_ names: [String], runtime: Runtime) async -> [(String, Outcome)] {
        var outcomes: [String: Outcome] = [:]
        var loaded: [Loaded] = []
        for name in names {
            switch load(name, runtime: runtime) {
            case .success(let file): loaded.append(file)
            case .failure(let done): outcomes[name] = done.outcome
            }
        }
        if !loaded.isEmpty {
            let receivedAt = now()
            var recorded: [EventKey] = []
            do {
                var seen: Set<EventKey> = []
                let known = try await journal.recorded(among: loaded.flatMap { $0.events.map(\.key) })
                for index in loaded.indices {
                    (loaded[index].batch, loaded[index].skipped) = plan(
                        loaded[index].events, runtime: runtime, receivedAt: receivedAt, seen: &seen, known: known,
                        logger: loaded[index].logger)
                }
                let entries = loaded.flatMap(\.batch)
                let replaced: [DeliveryID]
                (recorded, replaced) = try await journal.recordReplacing(entries, receivedAt: receivedAt)
                Self.logReplaced(replaced, batch: entries, logger: logger)
            } catch {
                let failure = Self.failure(journal: error)
                if case .refused = failure, loaded.count > 1 {
                    for file in loaded { outcomes[file.name] = await ingest(file.name, runtime: runtime) }
                } else {
                    for file in loaded { outcomes[file.name] = .failed(failure) }
                }
                return names.map { ($0, outcomes[$0] ?? .gone) }
            }
            let fresh = Set(recorded)
            // Only now, with the journal committed, may the files go.
            let unremoved = spool.remove(loaded.map(\.name))
            for file in loaded { outcomes[file.name] = finish(file, recorded: fresh, removal: unremoved[file.name]) }
        }
        return names.map { ($0, outcomes[$0] ?? .gone) }
    }

    /// Why a file needs no journal transaction: its outcome is already decided.
    private struct Decided: Error { var outcome: Outcome }

    /// Reads and parses one file, or decides it (gone, rejected, unreadable).
    private func load(_ name: String, runtime: Runtime) -> Result<Loaded, Decided> {
        var logger = logger
        logger[metadataKey: "spool.file"] = "\(name)"
        let bytes: Data
        do {
            bytes = try spool.read(name, maxBytes: runtime.config.maxEventBytes)
        } catch {
            switch error {
            case .gone:
                return .failure(Decided(outcome: .gone))
            case .unacceptable(_, let reason):
                return .failure(Decided(outcome: reject(name, reason: reason, logger: logger)))
            case .io:
                return .failure(Decided(outcome: .failed(.unreadable("cannot read it: \(error)"))))
            }
        }
        do {
            return .success(Loaded(name: name, logger: logger, events: try CloudEventParser.parse(bytes)))
        } catch {
            return .failure(Decided(outcome: reject(name, reason: error.description, logger: logger)))
        }
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

    /// The events not yet in the journal with their deliveries, and how many were skipped.
    /// `seen`: events already planned by an earlier file of the same transaction; `known`:
    /// events the journal had before it.
    private func plan(_ events: [CloudEvent], runtime: Runtime, receivedAt: Date, seen: inout Set<EventKey>,
                      known: Set<EventKey>, logger: Logger) -> ([(event: CloudEvent, deliveries: [Delivery])], Int) {
        var batch: [(event: CloudEvent, deliveries: [Delivery])] = []
        var duplicates = 0
        for event in events {
            if !seen.insert(event.key).inserted || known.contains(event.key) {
                duplicates += 1
                logger.notice("duplicate event dropped", metadata: [
                    "event.source": "\(event.source)", "event.id": "\(event.id)",
                ])
                continue
            }
            batch.append((event, event.isWithdrawal ? [] : runtime.plan(event, now: receivedAt)))
        }
        return (batch, duplicates)
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
