import CoreMetrics
import Foundation
import HeroldCore
import Metrics
import Prometheus
import Synchronization

/// Every metric herold has, by name: the rest of the code calls `eventsAccepted(_:)`,
/// `attempt(destination:outcome:)` and the like, and never spells a metric name or label.
///
/// The instruments are swift-metrics' (`Counter`, `Meter`, `Recorder`), backed by one
/// Prometheus registry of this instance (no global `MetricsSystem` is bootstrapped), which
/// `exposition()` writes in the text format 0.0.4. Every label has a small, bounded set of
/// values: states and channels are enums, destinations come from the config, and error
/// codes are folded to classes (`smtp.4xx`) by `AttemptOutcome.codeClass(_:)`.
public final class DaemonMetrics: Sendable {
    /// The one registry the instruments write to.
    let registry = PrometheusCollectorRegistry()

    private let accepted: CoreMetrics.Counter
    private let duplicates: CoreMetrics.Counter
    private let rejected: CoreMetrics.Counter
    private let oldestDue: Meter
    private let deliveries: [DeliveryKey: Meter]
    private let commit: [Bool: Recorder]
    private let spoolToDelivery: [Channel: Recorder]
    /// Created on first use: one per destination, outcome and code class.
    private let attempts = Mutex<[AttemptKey: CoreMetrics.Counter]>([:])
    /// One set of state gauges per destination the config names; dropped when it no longer does.
    private let lanes = Mutex<[Destination: [LaneStateLabel: (Meter, Prometheus.Gauge)]]>([:])

    private struct DeliveryKey: Hashable {
        var state: DeliveryState
        var channel: Channel
    }

    private struct AttemptKey: Hashable {
        var destination: Destination
        var outcome: String
        var code: String
    }

    public init() {
        let registry = registry
        accepted = Self.counter(Spec.eventsAccepted, in: registry)
        duplicates = Self.counter(Spec.eventsDuplicate, in: registry)
        rejected = Self.counter(Spec.eventsRejected, in: registry)
        oldestDue = Meter(label: Spec.oldestDue.name, dimensions: [],
                          handler: registry.makeGauge(descriptor: Spec.oldestDue.descriptor))
        var deliveries: [DeliveryKey: Meter] = [:]
        for state in DeliveryState.allCases {
            for channel in Channel.allCases {
                deliveries[DeliveryKey(state: state, channel: channel)] = Self.meter(
                    Spec.deliveries, [("state", state.rawValue), ("channel", channel.rawValue)], in: registry).0
            }
        }
        self.deliveries = deliveries
        var commit: [Bool: Recorder] = [:]
        for synced in [true, false] {
            commit[synced] = Self.histogram(Spec.journalCommit, [("sync", synced ? "full" : "normal")],
                                            buckets: Buckets.commit, in: registry)
        }
        self.commit = commit
        var spoolToDelivery: [Channel: Recorder] = [:]
        for channel in Channel.allCases {
            spoolToDelivery[channel] = Self.histogram(Spec.spoolToDelivery, [("channel", channel.rawValue)],
                                                      buckets: Buckets.spoolToDelivery, in: registry)
        }
        self.spoolToDelivery = spoolToDelivery
    }

    private static func counter(_ spec: MetricSpec, _ labels: [(String, String)] = [],
                                in registry: PrometheusCollectorRegistry) -> CoreMetrics.Counter {
        let handler = labels.isEmpty ? registry.makeCounter(descriptor: spec.descriptor)
                                     : registry.makeCounter(descriptor: spec.descriptor, labels: labels)
        return CoreMetrics.Counter(label: spec.name, dimensions: labels, handler: handler)
    }

    /// A gauge, as swift-metrics' `Meter` and as the registry's own (to unregister it).
    private static func meter(_ spec: MetricSpec, _ labels: [(String, String)],
                              in registry: PrometheusCollectorRegistry) -> (Meter, Prometheus.Gauge) {
        let gauge = registry.makeGauge(descriptor: spec.descriptor, labels: labels)
        return (Meter(label: spec.name, dimensions: labels, handler: gauge), gauge)
    }

    private static func histogram(_ spec: MetricSpec, _ labels: [(String, String)], buckets: [Double],
                                  in registry: PrometheusCollectorRegistry) -> Recorder {
        Recorder(label: spec.name, dimensions: labels, aggregate: true,
                 handler: registry.makeValueHistogram(descriptor: spec.descriptor, labels: labels, buckets: buckets))
    }

    // MARK: - Ingest

    /// A spool file's events: `count` newly recorded in the journal, `duplicates` dropped
    /// because the journal already had their `(source, id)`.
    public func eventsAccepted(_ count: Int, duplicates: Int = 0) {
        if count > 0 { accepted.increment(by: count) }
        if duplicates > 0 { self.duplicates.increment(by: duplicates) }
    }

    /// A spool file moved to `rejected/` (it may have held a batch of events).
    public func fileRejected() {
        rejected.increment()
    }

    // MARK: - Deliveries

    /// One attempt's outcome, as recorded in the journal.
    public func attempt(destination: Destination, outcome: AttemptOutcome) {
        let key = AttemptKey(destination: destination, outcome: outcome.label, code: outcome.code)
        let counter = attempts.withLock { counters in
            if let counter = counters[key] { return counter }
            let labels = [("destination", key.destination.rawValue), ("outcome", key.outcome), ("code", key.code)]
            let counter = Self.counter(Spec.attempts, labels, in: registry)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    /// A delivery the server accepted, `seconds` after its event arrived in the journal.
    public func delivered(channel: Channel, seconds: TimeInterval) {
        spoolToDelivery[channel]?.record(max(0, seconds))
    }

    // MARK: - The journal

    /// One journal transaction committed after `seconds` (from asking to write to the commit);
    /// `synced`: it waited for the disk (`synchronous=FULL`).
    public func journalCommitted(seconds: TimeInterval, synced: Bool) {
        commit[synced]?.record(max(0, seconds))
    }

    /// The journal's deliveries by state and channel; states and channels not given are 0.
    public func setDeliveries(_ counts: [(state: DeliveryState, channel: Channel, count: Int)]) {
        var totals: [DeliveryKey: Int] = [:]
        for entry in counts { totals[DeliveryKey(state: entry.state, channel: entry.channel), default: 0] += entry.count }
        for (key, meter) in deliveries { meter.set(totals[key] ?? 0) }
    }

    /// How long the oldest due delivery has waited past its due time (0: none waits).
    public func setOldestDueAge(seconds: TimeInterval) {
        oldestDue.set(max(0, seconds))
    }

    /// Each configured destination's lane state; lanes of destinations not given are dropped.
    public func setLanes(_ states: [Destination: LaneStateLabel]) {
        lanes.withLock { lanes in
            for (destination, gauges) in lanes where states[destination] == nil {
                for (_, gauge) in gauges.values { registry.unregisterGauge(gauge) }
                lanes[destination] = nil
            }
            for (destination, current) in states {
                if lanes[destination] == nil { lanes[destination] = makeLane(destination) }
                for (label, (meter, _)) in lanes[destination] ?? [:] { meter.set(label == current ? 1 : 0) }
            }
        }
    }

    private func makeLane(_ destination: Destination) -> [LaneStateLabel: (Meter, Prometheus.Gauge)] {
        var gauges: [LaneStateLabel: (Meter, Prometheus.Gauge)] = [:]
        for label in LaneStateLabel.allCases {
            gauges[label] = Self.meter(Spec.laneState, [("destination", destination.rawValue), ("state", label.rawValue)],
                                       in: registry)
        }
        return gauges
    }

    // MARK: - Exposition

    /// Every metric in Prometheus' text format 0.0.4.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    /// The `Content-Type` of `exposition()`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// A lane's state as the `state` label of `herold_lane_state`.
public enum LaneStateLabel: String, Sendable, CaseIterable {
    case open
    case backingOff = "backing_off"
    case probing
    case paused

    /// A lane's health at `now`: a backoff whose time has passed is `probing` (its next
    /// transfer is the probe).
    public init(_ health: LaneHealth, now: Date) {
        switch health.state {
        case .open: self = .open
        case .backingOff(let until): self = until > now ? .backingOff : .probing
        case .probing: self = .probing
        case .paused: self = .paused
        }
    }
}
