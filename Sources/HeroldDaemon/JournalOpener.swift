import Foundation
import HeroldConfig
import HeroldCore
import HeroldPostgres
import HeroldStore
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Opens the journal the config names: SQLite in the state folder (the default), or the
/// PostgreSQL database several nodes share (`journal: postgresql://…`).
enum JournalOpener {
    /// One attempt. A server that cannot be reached is a transient `JournalError`.
    static func open(_ config: HeroldConfig, logger: Logger,
                     onCommit: Journal.CommitObserver? = nil) async throws -> any DeliveryJournal {
        switch config.journal {
        case .sqlite:
            return try Journal(directory: config.state, onCommit: onCommit)
        case .postgresql(let postgres):
            return try await PostgresJournal.connect(settings: try settings(postgres), node: node(postgres),
                                                     lease: postgres.lease, logger: logger)
        }
    }

    /// For `serve`: tries again with a growing pause (1 s to 30 s, one log line each) until
    /// the journal answers or `shouldStop` says so; nil then. SQLite is tried once.
    static func openWaiting(_ config: HeroldConfig, logger: Logger, onCommit: Journal.CommitObserver?,
                            status: @Sendable (String) -> Void,
                            shouldStop: @Sendable () -> Bool) async throws -> (any DeliveryJournal)? {
        guard case .postgresql(let postgres) = config.journal else {
            return try await open(config, logger: logger, onCommit: onCommit)
        }
        var pause = 1.0
        while true {
            do {
                let journal = try await open(config, logger: logger, onCommit: onCommit)
                if pause > 1 { logger.notice("journal reachable", metadata: ["journal": "\(postgres)"]) }
                return journal
            } catch {
                logger.warning("journal unreachable; spool files wait, trying again", metadata: [
                    "journal": "\(postgres)", "error": "\(error)", "retry_in": "\(Int(pause))s",
                ])
                status("journal \(postgres) unreachable; trying again in \(Int(pause)) s")
            }
            let until = ContinuousClock.now + .milliseconds(Int64(pause * 1000))
            while ContinuousClock.now < until {
                if shouldStop() { return nil }
                try? await Task.sleep(for: .milliseconds(200))
            }
            pause = min(pause * 2, 30)
        }
    }

    /// The recipients' pseudonym key this journal's users share: the state folder's own on
    /// SQLite; on a shared journal the first node's (see `DeliveryJournal.recipientKey`).
    static func pseudonym(_ config: HeroldConfig, journal: any DeliveryJournal) async throws -> RecipientPseudonym {
        RecipientPseudonym(key: try await journal.recipientKey(proposed: try RecipientKey.bytes(directory: config.state)))
    }

    /// The connection settings, with the password read from `journal.password_file`.
    static func settings(_ config: PostgresJournalConfig) throws -> PostgresJournalSettings {
        var password: String?
        if let file = config.passwordFile {
            do {
                password = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw JournalError(kind: .invalid, file: file.path, operation: "read journal.password_file",
                                   message: error.localizedDescription)
            }
        }
        let tls: PostgresJournalSettings.TLS = config.tls == .none ? .disable : .require(caFile: config.caFile?.path)
        return PostgresJournalSettings(host: config.host, port: config.port, username: config.username,
                                       password: password, database: config.database, tls: tls)
    }

    /// `journal.node`, else the host name.
    static func node(_ config: PostgresJournalConfig) -> String {
        if let node = config.node { return node }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "herold" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
