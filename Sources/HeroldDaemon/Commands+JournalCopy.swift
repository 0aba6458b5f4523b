import Foundation
import HeroldConfig
import HeroldPostgres
import HeroldStore
import Logging

extension Commands {
    /// `herold journal copy --from STATE`: moves a SQLite journal into the PostgreSQL journal
    /// the config names — every event, delivery, attempt, lane and admin notice with its ids,
    /// and the recipient key — in one transaction. The source must not be in use (its state
    /// lock is taken) and the target must be empty. Deliveries in flight in the source go
    /// back to pending first, as the next start would do. Returns rows per table.
    public static func copyJournal(from state: String, configPath: String,
                                   progress: @escaping @Sendable (String, Int) -> Void) async throws(CommandFailure) -> [(table: String, rows: Int)] {
        let config = try loadConfig(configPath)
        guard let postgres = config.journal.postgresql else {
            throw CommandFailure(.usage, "\(configPath) names no PostgreSQL journal; set journal: postgresql://USER@HOST:PORT/DB there first")
        }
        let directory = URL(fileURLWithPath: state, isDirectory: true)
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(Journal.fileName).path) else {
            throw CommandFailure(.usage, "\(state) holds no \(Journal.fileName)")
        }
        let lock: StateLock
        do {
            lock = try StateLock(directory: directory)
        } catch {
            throw CommandFailure(.tempFail, "\(state) is in use (\(error)); stop herold on it first (systemctl stop herold)")
        }
        defer { withExtendedLifetime(lock) {} }
        do {
            let source = try Journal(directory: directory)
            _ = try await source.recoverInflight()
            let key = try RecipientKey.bytes(directory: directory)
            let target = try await PostgresJournal.connect(settings: try JournalOpener.settings(postgres),
                                                           node: JournalOpener.node(postgres), lease: postgres.lease,
                                                           logger: Logger(label: "herold"))
            do {
                let copied = try await target.copy(from: source, recipientKey: key, progress: progress)
                await target.close()
                return copied
            } catch {
                await target.close()
                throw error
            }
        } catch {
            throw CommandFailure(.ioError, "cannot copy \(state) into \(postgres): \(error)")
        }
    }
}
