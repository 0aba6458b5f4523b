import Foundation

/// How long the journal keeps personal data (config key `retention`). Three periods, each
/// counted from the moment a delivery finished (sent or failed) or an event arrived:
///
/// - `content` (default 30 days): the rendered message, the event's body, reasons and the
///   servers' replies; after it a finished delivery keeps only its id, state, times,
///   channel, destination, rule and attempt codes, and its address becomes a keyed hash.
/// - `records` (default 1 year): after it the delivery's row and attempts go entirely.
/// - `duplicates` (default 2 years): an event's key `(source, id)` stays this long, without
///   its body, so the same event arriving again is still a duplicate.
///
/// Deliveries not yet finished (pending, deferred, in flight, held) are never touched.
public struct RetentionPolicy: Sendable, Equatable {
    public var content: TimeInterval
    public var records: TimeInterval
    public var duplicates: TimeInterval

    public static let day: TimeInterval = 86400

    public init(content: TimeInterval = 30 * day, records: TimeInterval = 365 * day,
                duplicates: TimeInterval = 730 * day) {
        self.content = content
        self.records = records
        self.duplicates = duplicates
    }

    /// The moments before which each period has run out, at `now`.
    public func cutoffs(at now: Date) -> (content: Date, records: Date, duplicates: Date) {
        (now.addingTimeInterval(-content), now.addingTimeInterval(-records), now.addingTimeInterval(-duplicates))
    }
}
