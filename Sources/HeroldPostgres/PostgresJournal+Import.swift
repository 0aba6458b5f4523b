import Foundation
import HeroldStore
import PostgresNIO

/// Taking over a SQLite journal (`herold journal copy`): rows go in as SQLite held them,
/// column by column, in the order they were written.
extension PostgresJournal {
    /// Copies every row of a SQLite journal, and its recipient key, in one transaction: all
    /// of it or nothing. Refused when this journal already records an event (nodes may not
    /// ingest meanwhile: the tables are locked). Returns the rows copied per table, checked
    /// against the source's counts.
    public func copy(from source: Journal, recipientKey: [UInt8], pageSize: Int = 2000,
                     progress: @escaping @Sendable (_ table: String, _ rows: Int) -> Void = { _, _ in }) async throws -> [(table: String, rows: Int)] {
        try await transaction("copy the SQLite journal \(source.path)") { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(Journal.tables.joined(separator: ", ")) IN EXCLUSIVE MODE"),
                                       logger: self.logger)
            guard try await self.value("SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1) AS any_event", as: Int.self,
                                       on: connection) == 0 else {
                throw JournalError(kind: .invalid, file: self.path, operation: "copy into the journal",
                                   message: "it already records events; a copy goes only into an empty journal (a new database)")
            }
            var copied: [(table: String, rows: Int)] = []
            for table in Journal.tables {
                let known = Set(try await connection.query(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = \(table)",
                    logger: self.logger).collect().map { try $0.decode(String.self) })
                var rows = 0
                var after: Int64 = 0
                while true {
                    let page = try await source.rows(of: table, after: after, limit: pageSize)
                    if page.rows.isEmpty { break }
                    rows += try await self.insert(page, into: table, columns: known, on: connection)
                    after = page.next
                    progress(table, rows)
                }
                let expected = try await source.count(of: table)
                let stored = try await self.value(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), as: Int.self,
                                                  on: connection) ?? 0
                guard rows == expected, stored == expected else {
                    throw JournalError(kind: .invalid, file: self.path, operation: "copy \(table)",
                                       message: "\(expected) rows in the SQLite journal, \(rows) copied, \(stored) stored; nothing was kept")
                }
                copied.append((table, rows))
            }
            let key = Data(recipientKey)
            try await connection.query("""
                INSERT INTO recipient_key (key) VALUES (\(key)) ON CONFLICT (one) DO UPDATE SET key = EXCLUDED.key
                """, logger: self.logger)
            return copied
        }
    }

    /// One page of a SQLite table's rows, the columns both journals have (`known`: the target's).
    private func insert(_ page: JournalRows, into table: String, columns known: Set<String>,
                        on connection: PostgresConnection) async throws -> Int {
        let kept = page.columns.indices.filter { known.contains(page.columns[$0]) }
        guard !kept.isEmpty else { return 0 }
        let names = kept.map { "\"\(page.columns[$0])\"" }.joined(separator: ", ")
        var inserted = 0
        var start = 0
        // At most 60,000 parameters per statement (PostgreSQL allows 65,535).
        let perStatement = max(1, 60_000 / kept.count)
        while start < page.rows.count {
            let slice = page.rows[start..<min(start + perStatement, page.rows.count)]
            var bindings = PostgresBindings(capacity: slice.count * kept.count)
            var tuples: [String] = []
            for row in slice {
                var placeholders: [String] = []
                for column in kept {
                    try Self.bind(row[column], into: &bindings)
                    placeholders.append("$\(bindings.count)")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO \(table) (\(names)) VALUES \(tuples.joined(separator: ", ")) RETURNING 1"
            inserted += try await changes(PostgresQuery(unsafeSQL: sql, binds: bindings), on: connection)
            start += slice.count
        }
        return inserted
    }

    private static func bind(_ cell: JournalCell, into bindings: inout PostgresBindings) throws {
        switch cell {
        case .null: bindings.appendNull()
        case .integer(let number): try bindings.append(number)
        case .real(let number): try bindings.append(number)
        case .text(let text): try bindings.append(text)
        case .blob(let bytes): try bindings.append(Data(bytes))
        }
    }
}
