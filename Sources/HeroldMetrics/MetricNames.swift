import Prometheus

/// One metric's name and help text. Names follow Prometheus' conventions: `herold_`
/// prefix, base units in the name (`_seconds`), `_total` on counters.
struct MetricSpec: Sendable {
    let name: String
    let help: String

    var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}

/// Every metric herold has: the one place their names and help texts are spelled.
enum Spec {
    static let eventsAccepted = MetricSpec(
        name: "herold_events_accepted_total",
        help: "Events from the spool newly recorded in the journal.")
    static let eventsDuplicate = MetricSpec(
        name: "herold_events_duplicate_total",
        help: "Events dropped because the journal already had their source and id.")
    static let eventsRejected = MetricSpec(
        name: "herold_events_rejected_total",
        help: "Spool files moved to rejected/ (unreadable, too large or not CloudEvents; one file may hold a batch).")
    static let deliveries = MetricSpec(
        name: "herold_deliveries",
        help: "Deliveries in the journal by state and channel, read from the journal every metrics interval.")
    static let attempts = MetricSpec(
        name: "herold_delivery_attempts_total",
        help: "Delivery attempts by destination, outcome (sent, deferred, failed) and error code class (none when sent).")
    static let laneState = MetricSpec(
        name: "herold_lane_state",
        help: "Each destination lane's state: 1 for the current one of open, backing_off, probing, paused; 0 for the others.")
    static let oldestDue = MetricSpec(
        name: "herold_oldest_due_delivery_age_seconds",
        help: "How long the oldest due pending or deferred delivery has waited past its due time (0 when none waits).")
    static let journalCommit = MetricSpec(
        name: "herold_journal_commit_seconds",
        help: "Time from asking for a journal write to its commit, by sync mode (full: waits for the disk; normal: does not).")
    static let spoolToDelivery = MetricSpec(
        name: "herold_spool_to_delivery_seconds",
        help: "Time from an event's arrival in the journal to the server's OK, per delivery (reminders planned for later are left out).")
}

enum Buckets {
    /// A local SQLite commit: well under a millisecond without fsync, milliseconds with one,
    /// up to the journal's busy timeout (5 s) when another process holds the write lock.
    static let commit: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// From a fraction of a second (an open lane) through retries (minutes, hours) to a day.
    static let spoolToDelivery: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 86400]
}
