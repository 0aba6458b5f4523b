import Foundation
import GRDB
import HeroldCore
@testable import HeroldStore

/// Direct state writes for setting up journal tests (a delivery sent, failed, deferred or
/// held without going through a claim). They live here, not in `Journal`: the daemon has
/// one guarded write path (`claim`, `record(_ outcomes:)`, the operator commands).
extension Journal {
    /// The server accepted it: `sent`, with the reply recorded as an attempt.
    func markSent(_ id: DeliveryID, at: Date, reply: String) async throws {
        try await write("mark \(id) sent") { db in
            try Self.update(id, in: db, sql: """
                UPDATE deliveries SET state = 'sent', reason = NULL, sent_at = ?, updated_at = ? WHERE id = ?
                """, arguments: [at.timeIntervalSince1970, at.timeIntervalSince1970, id.rawValue])
            try Self.insertAttempt(id, at: at, outcome: .sent, code: nil, message: reply, in: db)
        }
    }

    /// A permanent failure or out of lifetime: `failed` (a dead letter) with the reason.
    func markFailed(_ id: DeliveryID, failure: DeliveryFailure, at: Date) async throws {
        try await write("mark \(id) failed") { db in
            try Self.update(id, in: db, sql: """
                UPDATE deliveries SET state = 'failed', reason = ?, updated_at = ? WHERE id = ?
                """, arguments: [failure.description, at.timeIntervalSince1970, id.rawValue])
            try Self.insertAttempt(id, at: at, outcome: .failed, code: failure.code, message: failure.message, in: db)
        }
    }

    /// A transient failure: `deferred` until `until`, with the reason.
    func markDeferred(_ id: DeliveryID, failure: DeliveryFailure, until: Date, at: Date) async throws {
        try await write("mark \(id) deferred") { db in
            try Self.update(id, in: db, sql: """
                UPDATE deliveries SET state = 'deferred', reason = ?, not_before = ?, updated_at = ? WHERE id = ?
                """, arguments: [failure.description, until.timeIntervalSince1970, at.timeIntervalSince1970, id.rawValue])
            try Self.insertAttempt(id, at: at, outcome: .deferred, code: failure.code, message: failure.message, in: db)
        }
    }

    /// Cannot be built (template, address): `held` for an operator, with the reason.
    /// Not an attempt: nothing was sent.
    func hold(_ id: DeliveryID, reason: String, at: Date = Date()) async throws {
        try await write("hold \(id)") { db in
            try Self.update(id, in: db, sql: """
                UPDATE deliveries SET state = 'held', reason = ?, updated_at = ? WHERE id = ?
                """, arguments: [reason, at.timeIntervalSince1970, id.rawValue])
        }
    }

}
