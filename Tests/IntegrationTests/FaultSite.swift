import Foundation
import XCTest

/// Helpers shared by the fault, signal and crash tests: a site with a config of the test's
/// own, and the journal as `herold status` / `upcoming` show it.
struct FaultSite {
    let site: TestSite
    var configPath: String { site.configPath }

    /// A TestSite (folders, secret, the `laureaci` template) whose herold.yaml is replaced by
    /// the common head (spool, state, fast retries) plus `body`.
    init(name: String, body: String, retry: String = "retry: { first: 1s, max: 2s }") throws {
        site = try TestSite(name: name, smtpPort: 1, httpPort: 1)
        try write(body: body, retry: retry)
    }

    func write(body: String, retry: String = "retry: { first: 1s, max: 2s }") throws {
        let yaml = """
            timezone: Europe/Warsaw
            spool: ./spool
            state: ./state
            \(retry)
            \(body)
            """
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func enqueue(_ event: String) throws {
        let result = try runHerold(["enqueue", "--config", configPath, "-"], stdin: Data(event.utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    /// `herold status --json`.
    func status() throws -> [String: Any] {
        let result = try runHerold(["status", "--config", configPath, "--json"])
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func counts() throws -> [String: Int] {
        (try status()["counts"] as? [String: Int]) ?? [:]
    }

    /// Failed and held deliveries by recipient.
    func problems() throws -> [String: [String: Any]] {
        let list = (try status()["problems"] as? [[String: Any]]) ?? []
        return Dictionary(list.map { ($0["recipient"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Pending and deferred deliveries by recipient (`herold upcoming --json`).
    func waiting() throws -> [String: [String: Any]] {
        let result = try runHerold(["upcoming", "--config", configPath, "--json", "--days", "3650"])
        let list = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
        return Dictionary(list.map { ($0["recipient"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    func remove() { site.remove() }
}

extension SinkServer {
    /// An SMTP sink's records for one recipient.
    func mails(to address: String) -> [[String: Any]] {
        records().filter { ($0["rcpt_tos"] as? [String]) == [address] }
    }

    /// An HTTP sink's records for one path.
    func requests(to path: String) -> [[String: Any]] {
        records().filter { $0["path"] as? String == path }
    }
}

/// A request header's value.
func header(_ name: String, of record: [String: Any]) -> String? {
    (record["headers"] as? [[String]])?.first { $0[0].lowercased() == name.lowercased() }?[1]
}
