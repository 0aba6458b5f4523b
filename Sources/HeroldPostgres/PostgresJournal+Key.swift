import Foundation
import HeroldStore

extension PostgresJournal {
    /// The first key any node proposed is everyone's: later proposals are ignored, so a hash
    /// made on one node (a log line, a duplicate-detection key kept after retention) matches
    /// on every other.
    public func recipientKey(proposed: [UInt8]) async throws -> [UInt8] {
        let bytes = Data(proposed)
        let stored = try await transaction("agree on the recipient key") { connection in
            try await connection.query("INSERT INTO recipient_key (key) VALUES (\(bytes)) ON CONFLICT DO NOTHING",
                                       logger: self.logger)
            return try await self.value("SELECT key FROM recipient_key", as: Data.self, on: connection)
        }
        guard let stored, stored.count == proposed.count else {
            throw JournalError(kind: .corrupt, file: path, operation: "read the recipient key",
                               message: "the table recipient_key holds no key of \(proposed.count) bytes")
        }
        return Array(stored)
    }
}
