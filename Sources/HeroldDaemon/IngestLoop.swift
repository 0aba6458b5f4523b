import Foundation
import HeroldSpool
import Logging

/// Feeds the ingestor: a scan of `new/` first (files that came while herold was down),
/// then every file the watcher reports; a rescan whenever asked.
struct IngestLoop: Sendable {
    let spool: Spool
    let ingestor: Ingestor
    let logger: Logger
    let runtime: @Sendable () -> Runtime
    let isStopping: @Sendable () -> Bool
    /// Called after an event with deliveries was recorded.
    let accepted: @Sendable () -> Void
    /// Called when a file had to be left for later (I/O or journal trouble).
    let retryLater: @Sendable () -> Void

    func run(signals: AsyncStream<SpoolSignal>, ready: @Sendable () -> Void) async {
        await scan()
        ready()
        for await signal in signals {
            if isStopping() { break }
            switch signal {
            case .file(let name): await handle(name)
            case .rescan: await scan()
            }
        }
    }

    private func scan() async {
        let names: [String]
        do {
            names = try spool.listNew()
        } catch {
            logger.error("cannot list spool/new", metadata: ["error": "\(error)"])
            retryLater()
            return
        }
        for name in names where !isStopping() {
            await handle(name)
        }
    }

    private func handle(_ name: String) async {
        switch await ingestor.ingest(name, runtime: runtime()) {
        case .accepted(_, _, let deliveries) where deliveries > 0: accepted()
        case .retryLater: retryLater()
        default: break
        }
    }
}
