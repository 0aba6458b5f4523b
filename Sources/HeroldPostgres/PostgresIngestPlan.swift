import Foundation
import HeroldCore
import HeroldStore

/// How one ingest batch is written in a few statements instead of a few per event, with
/// the outcome of recording it event by event (the SQLite journal's way): decided without
/// I/O once the events newly recorded are known.
///
/// Event by event, a newly recorded event with a subject ends the still-due deliveries of
/// every event recorded before it with its source, type and subject: those already in the
/// journal, and those earlier in the batch. Here the first such event of each group in the
/// batch ends the journal's (one statement for the batch); every later one ends the
/// deliveries of the group's event just before it in the batch, before they are inserted.
struct IngestPlan {
    /// The states a replacing event ends (`cancelPending`'s).
    static let replaceable: Set<DeliveryState> = [.pending, .deferred, .held]

    /// The events newly recorded, in batch order.
    private(set) var recorded: [EventKey] = []
    /// Their deliveries, in batch order, those replaced in the batch already `failed`.
    private(set) var deliveries: [Delivery] = []
    /// The first newly recorded event of each replacement group: it ends the group's
    /// deliveries already in the journal.
    private(set) var replacingJournal: [CloudEvent] = []
    /// Deliveries of the batch ended by a later event of their group, by that event.
    private var replacedInBatch: [EventKey: [DeliveryID]] = [:]
    private var replacing: [EventKey] = []

    /// The batch with each `(source, id)` once, the first kept (as event by event: the
    /// second finds the first recorded).
    static func unique(_ batch: [Planned]) -> [Planned] {
        var seen: Set<EventKey> = []
        return batch.filter { seen.insert($0.event.key).inserted }
    }

    /// - Parameters:
    ///   - batch: the batch, each key once (`unique`).
    ///   - new: the keys the insert recorded (the others were there already).
    init(_ batch: [Planned], new: Set<EventKey>) throws {
        var groups: [EventKey: Group] = [:]
        var firstDelivery: [Group: Int] = [:]
        for planned in batch where new.contains(planned.event.key) {
            let event = planned.event
            if let stray = planned.deliveries.first(where: { $0.event != event.key }) {
                throw JournalError(kind: .invalid, file: "", operation: "",
                                   message: "delivery \(stray.id) belongs to event \(stray.event), not \(event.key)")
            }
            recorded.append(event.key)
            if event.replacesEarlier {
                let group = Group(event)
                replacing.append(event.key)
                groups[event.key] = group
                if let start = firstDelivery[group] {
                    replacedInBatch[event.key] = endDue(from: start, by: event) { groups[$0] == group }
                } else {
                    replacingJournal.append(event)
                    firstDelivery[group] = deliveries.count
                }
            }
            deliveries += planned.deliveries
        }
    }

    /// The ids of the deliveries ended, in the order event by event would give, given
    /// those the first events of their groups ended in the journal.
    func replaced(inJournal: [EventKey: [DeliveryID]]) -> [DeliveryID] {
        replacing.flatMap { (inJournal[$0] ?? []) + (replacedInBatch[$0] ?? []) }
    }

    /// Ends, as `event` replacing them, the still-due deliveries from index `start` on
    /// whose event is in its group.
    private mutating func endDue(from start: Int, by event: CloudEvent, inGroup: (EventKey) -> Bool) -> [DeliveryID] {
        var ended: [DeliveryID] = []
        for index in start..<deliveries.count
        where Self.replaceable.contains(deliveries[index].state) && inGroup(deliveries[index].event) {
            deliveries[index].state = .failed
            deliveries[index].reason = event.replacementReason
            ended.append(deliveries[index].id)
        }
        return ended
    }

    /// Events that replace each other: one source, type and subject.
    private struct Group: Hashable {
        var source, type, subject: String
        init(_ event: CloudEvent) { (source, type, subject) = (event.source, event.type, event.subject ?? "") }
    }
}
