import ArgumentParser
import Foundation
import HeroldDaemon
import Logging

@main
struct Herold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herold",
        abstract: "Notification daemon: CloudEvents from a spool folder to email and webhooks.",
        version: "0.1.0",
        subcommands: [Serve.self, Enqueue.self, Check.self, Preview.self, Status.self, Upcoming.self, Requeue.self,
                      Hold.self, Release.self, Purge.self, Forget.self, History.self, JournalCommand.self]
    )
}

/// `--log-level debug`; an unknown level is a usage error (64), not a silent `info`.
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Options every command shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "The configuration file.")
    var config: String = "/etc/herold/herold.yaml"
}

/// Which deliveries `requeue` and `purge` act on: ids, or every failed one.
struct DeliverySelection: ParsableArguments {
    @Flag(help: "Every failed delivery.") var allFailed = false
    @Argument(help: "Delivery ids (from herold status).") var ids: [String] = []

    func validate() throws {
        if ids.isEmpty == !allFailed { throw ValidationError("give delivery ids, or --all-failed") }
    }
}

/// Prints a command's failure and exits with its sysexits code.
func finish(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CommandFailure {
        FileHandle.standardError.write(Data("herold: \(failure.message)\n".utf8))
        throw ExitCode(failure.exit.rawValue)
    }
}

func printJSON(_ value: Any) {
    let data = (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("null".utf8)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon in the foreground (systemd Type=notify).")
    @OptionGroup var options: CommonOptions
    @Option(help: "Log level: trace, debug (adds TLS versions, peer certificates and SMTP replies), info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let level = logLevel
        let underSystemd = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
        LoggingSystem.bootstrap { label in LogfmtHandler(label: label, level: level, timestamps: !underSystemd) }
        let daemon = Daemon(configPath: options.config, logger: Logger(label: "herold"))
        let code = await daemon.run()
        if code != .ok { throw ExitCode(code.rawValue) }
    }
}

struct Enqueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate events and drop them into the spool atomically.",
        discussion: "Every file is validated first; if any is invalid, nothing is written and herold exits 65.")
    @OptionGroup var options: CommonOptions
    @Argument(help: "Event files (CloudEvents JSON, one event or a batch), or - for standard input.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one event file, or - for standard input") }
    }

    func run() async throws {
        try await finish {
            let names = try Commands.enqueue(configPath: options.config, files: files)
            for name in names { print("queued \(name)") }
        }
    }
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the configuration and templates (exit 78 on errors).",
        discussion: "With --connect, also talk to the relay (connect, TLS, EHLO, AUTH; no mail) and to every webhook endpoint (DNS, address policy, TCP, TLS; no request), one line each; exit 69 if one does not work.")
    @OptionGroup var options: CommonOptions
    @Flag(help: "Also connect to the relay and every webhook endpoint, sending nothing.") var connect = false

    func run() async throws {
        try await finish {
            guard connect else {
                print(try Commands.check(configPath: options.config))
                return
            }
            let (summary, results) = try await Commands.checkConnections(configPath: options.config)
            print(summary)
            for result in results { print(result.line) }
            if results.contains(where: { !$0.ok }) { throw ExitCode(SysExit.unavailable.rawValue) }
        }
    }
}

struct Preview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show every message an event would cause; sends nothing.")
    @OptionGroup var options: CommonOptions
    @Flag(help: "Machine-readable output.") var json = false
    @Argument(help: "The event file, or - for standard input.") var event: String
    @Option(help: "Also write each message here as ID.eml / ID.http (the exact bytes), to open in a mail program.")
    var out: String?

    func run() async throws {
        try await finish {
            let items = try Commands.preview(configPath: options.config, eventFile: event)
            if json { printJSON(items.map(\.json)) } else { print(items.map(\.text).joined(separator: "\n")) }
            if let out {
                let paths = try Commands.writePreview(items, to: out)
                FileHandle.standardError.write(Data("wrote \(paths.count) files to \(out)\n".utf8))
            }
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deliveries by state, oldest pending, next retry, failed and held ones with reasons.")
    @OptionGroup var options: CommonOptions
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        try await finish {
            let report = try await Commands.status(configPath: options.config)
            if json { printJSON(report.json) } else { print(report.text) }
        }
    }
}

struct Upcoming: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Planned sends (reminders) in the coming days.")
    @OptionGroup var options: CommonOptions
    @Option(help: "How many days ahead.") var days: Int = 30
    @Flag(help: "Machine-readable output.") var json = false

    func run() async throws {
        try await finish {
            let items = try await Commands.upcoming(configPath: options.config, days: days)
            if json { printJSON(items.map(\.json)) } else { print(items.isEmpty ? "nothing planned in the next \(days) days" : items.map(\.text).joined(separator: "\n")) }
        }
    }
}

struct Requeue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Put failed or held deliveries back in the queue.")
    @OptionGroup var options: CommonOptions
    @OptionGroup var selection: DeliverySelection

    func run() async throws {
        try await finish {
            let count = try await Commands.requeue(configPath: options.config, ids: selection.ids, allFailed: selection.allFailed)
            print("requeued \(count) deliveries; a running herold takes them up within seconds")
        }
    }
}

struct Hold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Keep pending or deferred deliveries from being sent until released.")
    @OptionGroup var options: CommonOptions
    @Option(help: "Why (shown by herold status).") var reason = "held by an operator"
    @Argument(help: "Delivery ids (from herold status or upcoming).") var ids: [String]

    func validate() throws {
        if ids.isEmpty { throw ValidationError("give delivery ids") }
    }

    func run() async throws {
        try await finish {
            let count = try await Commands.hold(configPath: options.config, ids: ids, reason: reason)
            print("held \(count) of \(ids.count) deliveries" + (count < ids.count ? " (only pending or deferred ones can be held)" : ""))
        }
    }
}

struct Release: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Let held deliveries be sent again.")
    @OptionGroup var options: CommonOptions
    @Argument(help: "Delivery ids (from herold status).") var ids: [String]

    func validate() throws {
        if ids.isEmpty { throw ValidationError("give delivery ids") }
    }

    func run() async throws {
        try await finish {
            let count = try await Commands.release(configPath: options.config, ids: ids)
            print("released \(count) of \(ids.count) deliveries" + (count < ids.count ? " (only held ones can be released)" : ""))
        }
    }
}

struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete failed or held deliveries for good.")
    @OptionGroup var options: CommonOptions
    @OptionGroup var selection: DeliverySelection

    func run() async throws {
        try await finish {
            let count = try await Commands.purge(configPath: options.config, ids: selection.ids, allFailed: selection.allFailed)
            print("purged \(count) deliveries")
        }
    }
}

struct Forget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erase a person's addresses, names and messages from the journal (RODO art. 17).",
        discussion: """
            Cancels what is still due to them ("erased on request"), erases their messages, the events \
            that named them and the replies that did, then checkpoints the journal. Prints counts only. \
            Safe while herold serve runs.
            """)
    @OptionGroup var options: CommonOptions
    @Option(name: .customLong("name"), help: "Also erase this name (repeatable) where messages and events mention it.")
    var names: [String] = []
    @Argument(help: "Email addresses.") var addresses: [String]

    func validate() throws {
        if addresses.isEmpty { throw ValidationError("give at least one email address") }
        if let bad = addresses.first(where: { !$0.contains("@") }) { throw ValidationError("\(bad) is not an email address") }
    }

    func run() async throws {
        try await finish {
            let report = try await Commands.forget(configPath: options.config, addresses: addresses, names: names)
            print(report.text)
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What herold sent or will send to an address (RODO art. 15): when, rule, subject, state.")
    @OptionGroup var options: CommonOptions
    @Flag(help: "Machine-readable output (stable fields).") var json = false
    @Flag(help: "Also show each message's text, while the content period keeps it.") var showMessages = false
    @Argument(help: "An email address.") var address: String

    func run() async throws {
        try await finish {
            let report = try await Commands.history(configPath: options.config, address: address, showMessages: showMessages)
            if json { printJSON(report.json) } else { print(report.text) }
        }
    }
}

struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Move the journal: SQLite in a state folder to a shared PostgreSQL.",
        subcommands: [JournalCopy.self])
}

struct JournalCopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a SQLite journal into the PostgreSQL journal the config names.",
        discussion: """
            Copies every event, delivery (with its id, so nothing is sent again), attempt, lane and \
            admin notice, and the recipient key, in one transaction: all or nothing. The state folder \
            must not be in use (stop herold first) and the PostgreSQL journal must be empty. Prints \
            the rows copied per table.
            """)
    @OptionGroup var options: CommonOptions
    @Option(help: "The state folder holding journal.sqlite (e.g. /var/lib/herold).") var from: String

    func run() async throws {
        try await finish {
            let copied = try await Commands.copyJournal(from: from, configPath: options.config) { table, rows in
                if rows % 20_000 == 0 { FileHandle.standardError.write(Data("  \(table): \(rows) rows…\n".utf8)) }
            }
            for (table, rows) in copied { print("\(table): \(rows) rows copied") }
            print("journal copied; start herold with this config")
        }
    }
}
