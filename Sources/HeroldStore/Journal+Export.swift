import Foundation
import GRDB

/// One value of a journal row, as SQLite holds it: for copying the journal elsewhere.
public enum JournalCell: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A page of one table's rows, in the order they were written.
public struct JournalRows: Sendable {
    public var columns: [String]
    public var rows: [[JournalCell]]
    /// Where the next page starts (the last row's rowid).
    public var next: Int64
}

extension Journal {
    /// Every table that holds the journal's record, parents before children.
    public static let tables = ["events", "deliveries", "attempts", "lanes", "admin_summaries", "admin_notices"]

    /// Up to `limit` rows of `table` after rowid `after`, oldest first.
    public func rows(of table: String, after: Int64, limit: Int) async throws -> JournalRows {
        guard Self.tables.contains(table) else {
            throw JournalError(kind: .invalid, file: path, operation: "read \(table)", message: "no such table")
        }
        do {
            return try await pool.read { db in
                let fetched = try Row.fetchAll(db, sql: "SELECT rowid AS herold_rowid, * FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                               arguments: [after, limit])
                var page = JournalRows(columns: [], rows: [], next: after)
                for row in fetched {
                    if page.columns.isEmpty { page.columns = Array(row.columnNames.dropFirst()) }
                    page.next = row["herold_rowid"]
                    page.rows.append(row.databaseValues.dropFirst().map(Self.cell))
                }
                return page
            }
        } catch {
            throw JournalError(wrapping: error, file: path, operation: "read \(table)")
        }
    }

    /// How many rows `table` has.
    public func count(of table: String) async throws -> Int {
        guard Self.tables.contains(table) else {
            throw JournalError(kind: .invalid, file: path, operation: "count \(table)", message: "no such table")
        }
        do {
            return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
        } catch {
            throw JournalError(wrapping: error, file: path, operation: "count \(table)")
        }
    }

    private static func cell(_ value: DatabaseValue) -> JournalCell {
        switch value.storage {
        case .null: return .null
        case .int64(let number): return .integer(number)
        case .double(let number): return .real(number)
        case .string(let text): return .text(text)
        case .blob(let data): return .blob(Array(data))
        }
    }
}
