import Foundation
import Logging
import HeroldConfig
import HeroldCore
import HeroldSpool
import HeroldStore

/// The one-shot commands: `enqueue`, `check`, `preview`, `status`, `upcoming`, `requeue`.
/// Each returns data; the CLI prints it.
public enum Commands {
    /// Validates every file, then drops each into the spool (tmp → fsync → rename → fsync).
    /// Nothing is written if any file is invalid.
    public static func enqueue(configPath: String, files: [String]) throws(CommandFailure) -> [String] {
        let config = try loadConfig(configPath)
        var payloads: [Data] = []
        var problems: [String] = []
        for file in files {
            let data: Data
            do {
                data = try readInput(file, maxBytes: config.maxEventBytes)
            } catch {
                problems.append("\(file): \(error)")
                continue
            }
            do {
                _ = try CloudEventParser.parse(data)
                payloads.append(data)
            } catch {
                problems.append("\(file == "-" ? "<stdin>" : file): \(error)")
            }
        }
        if !problems.isEmpty {
            throw CommandFailure(.dataError, (problems + ["nothing was queued"]).joined(separator: "\n"))
        }
        let spool = Spool(root: config.spool)
        do {
            try spool.prepareToEnqueue()
            return try payloads.map { try spool.enqueue($0) }
        } catch {
            throw CommandFailure(.ioError, "cannot write to the spool \(config.spool.path): \(error)")
        }
    }

    /// Every config and template problem, or a one-line summary when all is well.
    public static func check(configPath: String) throws(CommandFailure) -> String {
        let config: HeroldConfig
        do {
            config = try ConfigLoader.load(path: configPath)
        } catch {
            throw CommandFailure(.config, describe(error))
        }
        var issues = ConfigLoader.checkFiles(config)
        do {
            _ = try Runtime.compileTemplates(config)
        } catch {
            issues += error.issues
        }
        if !issues.isEmpty { throw CommandFailure(.config, describe(ConfigErrors(issues))) }
        let templates = Set(config.rules.flatMap(\.send).compactMap { action -> String? in
            switch action {
            case .email(_, let template): return template
            case .webhook(_, let template): return template
            }
        })
        return "\(configPath): OK — \(config.rules.count) rules, \(templates.count) templates, \(config.webhooks.count) webhook endpoints, \(config.calendar.count) calendar dates"
    }

    /// Every message the event would cause, rendered; nothing is sent or stored.
    public static func preview(configPath: String, eventFile: String, now: Date = Date()) throws(CommandFailure) -> [PreviewItem] {
        let runtime: Runtime
        do {
            runtime = try Runtime.load(configPath: configPath, logger: .init(label: "herold.preview"))
        } catch {
            throw CommandFailure(.config, describe(error))
        }
        let events: [CloudEvent]
        do {
            events = try CloudEventParser.parse(try readInput(eventFile, maxBytes: runtime.config.maxEventBytes))
        } catch let error as EventError {
            throw CommandFailure(.dataError, "\(eventFile): \(error)")
        } catch {
            throw CommandFailure(.ioError, "\(eventFile): \(error)")
        }
        return events.filter { !$0.isWithdrawal }.flatMap { event in
            runtime.plan(event, now: now).map { PreviewItem(delivery: $0, runtime: runtime, now: now) }
        }
    }

    public static func status(configPath: String, now: Date = Date()) async throws(CommandFailure) -> StatusReport {
        return try await withJournal(configPath, failing: "cannot read the journal") { journal in
            return try await StatusReport.make(journal: journal, now: now)
        }
    }

    public static func upcoming(configPath: String, days: Int, now: Date = Date()) async throws(CommandFailure) -> [UpcomingItem] {
        let config = try loadConfig(configPath)
        return try await withJournal(config, failing: "cannot read the journal") { journal in
            let horizon = now.addingTimeInterval(Double(days) * 86400)
            let planned = try await journal.deliveries(in: [.pending, .deferred], limit: 10_000)
                .filter { $0.notBefore <= horizon }
                .map { UpcomingItem(delivery: $0, timezone: config.timezone) }
            return (planned + UpcomingItem.calendar(config: config, after: now, through: horizon))
                .sorted { $0.sendAt < $1.sendAt }
        }
    }

    public static func requeue(configPath: String, ids: [String], allFailed: Bool, now: Date = Date()) async throws(CommandFailure) -> Int {
        return try await withJournal(configPath, failing: "cannot update the journal") { journal in
            if allFailed { return try await journal.requeueAllFailed(now: now) }
            return try await journal.requeue(ids.map(DeliveryID.init(rawValue:)), now: now)
        }
    }

    // MARK: - helpers

    static func loadConfig(_ path: String) throws(CommandFailure) -> HeroldConfig {
        do {
            return try ConfigLoader.load(path: path)
        } catch {
            throw CommandFailure(.config, describe(error))
        }
    }

    /// Runs `body` on the journal the config names (SQLite in the state folder, or the
    /// shared PostgreSQL) and closes it; a journal error becomes `failing: …` (74).
    static func withJournal<T: Sendable>(_ path: String, failing what: String,
                                         _ body: (any DeliveryJournal) async throws -> T) async throws(CommandFailure) -> T {
        try await withJournal(try loadConfig(path), failing: what, body)
    }

    static func withJournal<T: Sendable>(_ config: HeroldConfig, failing what: String,
                                         _ body: (any DeliveryJournal) async throws -> T) async throws(CommandFailure) -> T {
        let journal: any DeliveryJournal
        do {
            journal = try await JournalOpener.open(config, logger: Logger(label: "herold"))
        } catch {
            let place = config.journal.postgresql.map { "\($0)" } ?? config.state.path
            throw CommandFailure(.ioError, "cannot open the journal in \(place): \(error)")
        }
        do {
            let result = try await body(journal)
            await journal.shutdown()
            return result
        } catch {
            await journal.shutdown()
            throw CommandFailure(.ioError, "\(what): \(error)")
        }
    }

    static func describe(_ errors: ConfigErrors) -> String {
        errors.description + "\n\(errors.issues.count) error\(errors.issues.count == 1 ? "" : "s") in the configuration"
    }

    static func readInput(_ file: String, maxBytes: Int) throws -> Data {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        }
        if data.count > maxBytes {
            throw CommandFailure(.dataError, "is \(data.count) bytes; the limit (limits.max_event_bytes) is \(maxBytes)")
        }
        return data
    }
}
