import Foundation
import HeroldConfig
import HeroldCore
import HeroldMetrics
import HeroldStore
import Logging

/// Shows herold's metrics where `metrics:` says: serves `GET /metrics` on `listen`, writes
/// `textfile`, and every `interval` reads the gauges that describe the journal (deliveries
/// by state and channel, the oldest due delivery's age, each lane's state) from the
/// journal, so no delivery pays for them. Counters and histograms are kept by the parts
/// that see the events (`Ingestor`, `Dispatcher`, the journal's commit hook).
///
/// A listener that cannot bind (the port is taken) is logged and tried again every
/// interval: herold keeps delivering, and Prometheus sees the target down meanwhile.
/// The settings are read at start; a reload does not move the listener.
struct MetricsService: Sendable {
    let metrics: DaemonMetrics
    let settings: MetricsConfig
    let journal: any DeliveryJournal
    let logger: Logger
    let now: @Sendable () -> Date
    /// The config in force, for the lanes it names.
    let config: @Sendable () -> HeroldConfig

    /// Runs until the task is cancelled; then the listener stops.
    func run() async {
        var listener: MetricsListener?
        var troubles = Troubles(logger: logger)
        defer { listener?.stop() }
        while !Task.isCancelled {
            if listener == nil, let address = settings.listen {
                listener = listen(on: address, troubles: &troubles)
            }
            await refresh(troubles: &troubles)
            if let textfile = settings.textfile { write(textfile, troubles: &troubles) }
            try? await Task.sleep(for: .milliseconds(Int64(settings.interval * 1000)))
        }
    }

    private func listen(on address: ListenAddress, troubles: inout Troubles) -> MetricsListener? {
        do {
            let listener = try MetricsListener(host: address.host, port: address.port)
            let metrics = metrics
            listener.start { metrics.exposition() }
            troubles.ended("listen", "metrics listener bound after a failure", ["address": "\(listener.address)"])
            logger.notice("serving metrics", metadata: ["address": "\(listener.address)", "path": "/metrics"])
            return listener
        } catch {
            troubles.began("listen", "cannot listen for metrics scrapes; trying again every interval",
                           ["address": "\(address)", "error": "\(error)"])
            return nil
        }
    }

    /// Reads the journal's gauges.
    private func refresh(troubles: inout Troubles) async {
        do {
            let tally = try await journal.tally()
            metrics.setDeliveries(tally.map { ($0.state, $0.channel, $0.count) })
            let instant = now()
            let due = try await journal.dueTimes(now: instant)
            metrics.setOldestDueAge(seconds: due.oldestDue.map { instant.timeIntervalSince($0) } ?? 0)
            var lanes: [Destination: LaneStateLabel] = [:]
            for destination in Self.destinations(config()) { lanes[destination] = .open }
            for record in try await journal.lanes() where lanes[record.destination] != nil {
                lanes[record.destination] = LaneStateLabel(record.health, now: instant)
            }
            metrics.setLanes(lanes)
            troubles.ended("journal", "metrics read from the journal again", [:])
        } catch {
            troubles.began("journal", "cannot read metrics from the journal; the gauges keep their last values",
                           ["error": "\(error)"])
        }
    }

    private func write(_ textfile: URL, troubles: inout Troubles) {
        do {
            try TextfileWriter(path: textfile.path).write(metrics.exposition())
            troubles.ended("textfile", "metrics textfile written again", ["path": "\(textfile.path)"])
        } catch {
            troubles.began("textfile", "cannot write the metrics textfile", ["path": "\(textfile.path)", "error": "\(error)"])
        }
    }

    /// The lanes the config names: the relay, and each webhook endpoint.
    static func destinations(_ config: HeroldConfig) -> [Destination] {
        (config.smtp == nil ? [] : [.smtp]) + config.webhooks.keys.sorted().map(Destination.webhook)
    }

    /// Logs each kind of trouble once when it begins and once when it ends, not every interval.
    private struct Troubles {
        let logger: Logger
        var current: Set<String> = []

        mutating func began(_ kind: String, _ message: Logger.Message, _ metadata: Logger.Metadata) {
            guard current.insert(kind).inserted else { return }
            logger.error(message, metadata: metadata)
        }

        mutating func ended(_ kind: String, _ message: Logger.Message, _ metadata: Logger.Metadata) {
            guard current.remove(kind) != nil else { return }
            logger.notice(message, metadata: metadata)
        }
    }
}

extension Runtime {
    /// Whether the delivery's rule plans its sends for later (`remind:`): its wait is by
    /// design, so it is left out of the spool-to-delivery time.
    func plansLater(_ delivery: Delivery) -> Bool {
        config.rules.first { $0.name == delivery.rule }?.remind != nil
    }
}
