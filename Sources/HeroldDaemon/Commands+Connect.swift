import Foundation
import HeroldConfig
import HeroldTransport
import Logging

extension Commands {
    /// `herold check --connect`: the config check, then one line per destination — the relay
    /// (connect, TLS, EHLO, AUTH; no mail) and each webhook endpoint (DNS, address policy, TCP,
    /// TLS; no request) — with what works and what does not. Throws 78 for a bad config; the
    /// caller exits 69 (EX_UNAVAILABLE) when a destination does not work.
    public static func checkConnections(configPath: String) async throws(CommandFailure) -> (summary: String, results: [ConnectionCheckResult]) {
        let summary = try check(configPath: configPath)
        let engine: TransportEngine
        do {
            engine = try TransportEngine(threads: 1)
        } catch {
            throw CommandFailure(.ioError, "cannot start libcurl: \(error)")
        }
        defer { engine.shutdown() }
        let runtime: Runtime
        do {
            runtime = try Runtime.load(configPath: configPath, logger: Logger(label: "herold.check"), transportEngine: engine)
        } catch {
            throw CommandFailure(.config, describe(error))
        }
        return (summary, await runtime.transport.checkConnections())
    }
}
