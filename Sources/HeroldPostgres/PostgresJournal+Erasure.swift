import Foundation
import HeroldCore
import HeroldStore

/// `herold forget` and `herold history` (RODO art. 17 and 15) on the shared journal.
extension PostgresJournal {
    public func forget(addresses: [String], names: [String], now: Date, pseudonym: RecipientPseudonym,
                       inFlightWait: Duration) async throws -> ErasureReport {
        throw notYet("forget")
    }

    public func history(address: String, pseudonym: RecipientPseudonym) async throws -> [HistoryEntry] {
        throw notYet("history")
    }

    private func notYet(_ command: String) -> JournalError {
        JournalError(kind: .invalid, file: path, operation: command,
                     message: "not available on PostgreSQL yet; run it against the SQLite journal")
    }
}
