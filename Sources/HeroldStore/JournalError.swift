import Foundation
import GRDB

/// A journal operation that failed: on which file, doing what, and whether to retry.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    /// What the caller should do about it.
    public enum Kind: String, Sendable {
        /// Busy, locked, I/O or disk-full: the operation may work later; retry.
        case transient
        /// The database is damaged or not a database: stop and call an operator.
        case corrupt
        /// The request itself cannot succeed (a constraint, a value the journal cannot hold).
        case invalid
        /// The delivery named does not exist.
        case notFound
    }

    public var kind: Kind
    /// The journal file.
    public var file: String
    /// What was being done: `record events`, `claim due deliveries`…
    public var operation: String
    public var message: String
    /// The SQLite extended result code, when SQLite reported the error.
    public var sqliteCode: Int32?

    public init(kind: Kind, file: String, operation: String, message: String, sqliteCode: Int32? = nil) {
        self.kind = kind
        self.file = file
        self.operation = operation
        self.message = message
        self.sqliteCode = sqliteCode
    }

    /// True when retrying later may succeed.
    public var isTransient: Bool { kind == .transient }

    /// True when SQLite found the disk full (`SQLITE_FULL`, whatever its extended code).
    public var isDiskFull: Bool {
        sqliteCode.map { ResultCode(rawValue: $0).primaryResultCode == .SQLITE_FULL } ?? false
    }

    public var description: String {
        "journal \(file): \(operation) failed (\(kind.rawValue)): \(message)"
    }

    /// Wraps any error from GRDB or our own row decoding.
    init(wrapping error: any Error, file: String, operation: String) {
        if let error = error as? JournalError {
            self = error
            self.file = file
            self.operation = operation
            return
        }
        guard let error = error as? DatabaseError else {
            self.init(kind: .invalid, file: file, operation: operation, message: "\(error)")
            return
        }
        let kind: Kind
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_CANTOPEN,
             .SQLITE_NOMEM, .SQLITE_INTERRUPT, .SQLITE_PROTOCOL:
            kind = .transient
        case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_FORMAT:
            kind = .corrupt
        default:
            kind = .invalid
        }
        self.init(kind: kind, file: file, operation: operation,
                  message: error.message ?? "\(error.resultCode)", sqliteCode: error.extendedResultCode.rawValue)
    }
}
