import Foundation
import HeroldCore
import HeroldStore

/// `forget` and `history`: a person's rights under RODO (erasure, art. 17; access, art. 15).
/// Both are safe while `herold serve` runs: history only reads; forget works in short
/// transactions and checks each row again as it changes it.
extension Commands {
    /// Erases what the journal holds of these addresses (and names), cancels what is still
    /// due for them, gives the space back and checkpoints, so no copy stays in the files.
    public static func forget(configPath: String, addresses: [String], names: [String],
                              now: Date = Date()) async throws(CommandFailure) -> ForgetReport {
        let config = try loadConfig(configPath)
        return try await withJournal(config, failing: "cannot erase from the journal") { journal in
            let pseudonym = try await JournalOpener.pseudonym(config, journal: journal)
            let erasure = try await journal.forget(addresses: addresses, names: names, now: now, pseudonym: pseudonym)
            let pages = try await journal.giveSpaceBack()
            let checkpointed = try await journal.checkpoint()
            return ForgetReport(erasure: erasure, checkpointed: checkpointed, pagesFreed: pages)
        }
    }

    /// What herold sent, or will send, to an address (and messages to others naming it).
    public static func history(configPath: String, address: String, showMessages: Bool) async throws(CommandFailure) -> HistoryReport {
        let config = try loadConfig(configPath)
        return try await withJournal(config, failing: "cannot read the journal") { journal in
            let pseudonym = try await JournalOpener.pseudonym(config, journal: journal)
            let entries = try await journal.history(address: address, pseudonym: pseudonym)
            return HistoryReport(address: address, entries: entries, retention: config.retention,
                                 timezone: config.timezone, showMessages: showMessages)
        }
    }
}
