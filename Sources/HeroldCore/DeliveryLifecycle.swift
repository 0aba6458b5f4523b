import Foundation

/// Something that happens to a delivery: the dispatcher's doing, a server's answer, or an
/// operator's command.
public enum DeliveryEvent: Sendable, Equatable {
    /// The dispatcher takes a due delivery to send it.
    case claim
    /// The server accepted it (SMTP 250, HTTP 2xx), with its reply.
    case succeeded(reply: String)
    /// The attempt failed.
    case failed(DeliveryFailure)
    /// An operator puts a failed or held delivery back in the queue.
    case requeue
    /// An operator (or a render failure) parks it until released.
    case hold(reason: String)
    /// An operator lets a held delivery go again.
    case release
    /// Its own moment has passed (a greeting after its day): it must not be sent late.
    case expire
    /// herold stopped while it was in flight; on start it is due again.
    case recover
    /// Its destination refused to work for reasons that are not this delivery's (a refused
    /// login, an untrusted certificate): the lane pauses and the delivery waits in the queue,
    /// the attempt not counted.
    case interrupted(reason: String)

    /// The event without its details, for the table of allowed transitions.
    public var kind: Kind {
        switch self {
        case .claim: return .claim
        case .succeeded: return .succeeded
        case .failed: return .failed
        case .requeue: return .requeue
        case .hold: return .hold
        case .release: return .release
        case .expire: return .expire
        case .recover: return .recover
        case .interrupted: return .interrupted
        }
    }

    /// The kinds of `DeliveryEvent`.
    public enum Kind: String, Sendable, CaseIterable {
        case claim, succeeded, failed, requeue, hold, release, expire, recover, interrupted
    }
}

/// What the owner of delivery state must do to carry out a transition.
public enum DeliveryAction: Sendable, Equatable {
    /// Hand the delivery to its transport.
    case transmit
    /// Record it sent, with the server's reply.
    case recordSent(reply: String)
    /// Record the transient failure; try again at `until`.
    case recordDeferred(DeliveryFailure, until: Date)
    /// Record it failed (a dead letter) with the failure as its reason.
    case recordFailed(DeliveryFailure)
    /// Record it held with the reason.
    case recordHeld(reason: String)
    /// Record it pending again, due at `notBefore`, with a fresh attempt count.
    case recordPending(notBefore: Date)
    /// Record it pending again, its last attempt not counted, with the reason it waits.
    case recordInterrupted(reason: String)
}

/// The outcome of one event: the new state and what to do.
public struct DeliveryTransition: Sendable, Equatable {
    public var state: DeliveryState
    public var actions: [DeliveryAction]
    public init(state: DeliveryState, actions: [DeliveryAction]) {
        self.state = state
        self.actions = actions
    }
}

/// An event that the delivery's state does not allow (e.g. releasing a sent delivery).
public struct DeliveryTransitionRefused: Error, Sendable, Equatable, CustomStringConvertible {
    public var state: DeliveryState
    public var event: DeliveryEvent.Kind
    public init(state: DeliveryState, event: DeliveryEvent.Kind) {
        self.state = state
        self.event = event
    }
    public var description: String { "a \(state.rawValue) delivery cannot take \"\(event.rawValue)\"" }
}

/// A delivery's life, as a pure state machine:
///
///     pending ──claim──▶ inflight ──succeeded──▶ sent
///        ▲                  │ └──failed (transient, within lifetime)──▶ deferred ──claim──▶ inflight
///        │                  └──failed (permanent / out of lifetime / past expiresAt)──▶ failed
///        ├──requeue── failed, held          pending, deferred ──hold──▶ held ──release──▶ pending
///        ├──recover── inflight (after a stop)   pending, deferred, inflight ──expire──▶ failed
///        └──interrupted── inflight (its lane paused: login refused, certificate; not counted)
///
/// A claim of a delivery whose `expiresAt` has passed expires it instead of sending it late.
/// No I/O: the caller supplies the clock and the randomness, and carries out the actions.
public struct DeliveryLifecycle: Sendable {
    /// When to retry and when to give up.
    public var retry: RetryPolicy
    /// When a send has become too late to be worth it (decided at claim).
    public var lateness: Lateness

    public init(retry: RetryPolicy = RetryPolicy(), lateness: Lateness = .never) {
        self.retry = retry
        self.lateness = lateness
    }

    /// The failure code of a delivery that expired.
    public static let expiredCode = "delivery.expired"

    /// The states from which an event of this kind is allowed.
    public static func sources(of kind: DeliveryEvent.Kind) -> Set<DeliveryState> {
        switch kind {
        case .claim: return [.pending, .deferred]
        case .succeeded, .failed, .interrupted: return [.inflight]
        case .requeue: return [.failed, .held]
        case .hold: return [.pending, .deferred]
        case .release: return [.held]
        case .expire: return [.pending, .deferred, .inflight]
        case .recover: return [.inflight]
        }
    }

    /// Whether a delivery's own moment has passed at `now`.
    public static func hasExpired(_ delivery: Delivery, now: Date) -> Bool {
        guard let expiresAt = delivery.expiresAt else { return false }
        return now >= expiresAt
    }

    /// The next state and the actions for `event`. `unit` is a random number in [0, 1)
    /// for the backoff's jitter; `firstAttemptAt` is when the delivery was first tried
    /// (its lifetime counts from there; the delivery's `notBefore` when nil).
    public func apply(_ event: DeliveryEvent, to delivery: Delivery, now: Date, unit: Double = 0.5,
                      firstAttemptAt: Date? = nil) throws(DeliveryTransitionRefused) -> DeliveryTransition {
        guard Self.sources(of: event.kind).contains(delivery.state) else {
            throw DeliveryTransitionRefused(state: delivery.state, event: event.kind)
        }
        switch event {
        case .claim:
            if Self.hasExpired(delivery, now: now) { return expired(delivery) }
            if let missed = lateness.missed(delivery, now: now) {
                return DeliveryTransition(state: .failed, actions: [.recordFailed(missed)])
            }
            return DeliveryTransition(state: .inflight, actions: [.transmit])
        case .succeeded(let reply):
            return DeliveryTransition(state: .sent, actions: [.recordSent(reply: reply)])
        case .failed(let failure):
            let since = firstAttemptAt ?? delivery.notBefore
            switch retry.decide(after: failure, attempts: max(1, delivery.attempts), dueSince: since, now: now, unit: unit) {
            case .retry(let at):
                if let expiresAt = delivery.expiresAt, at >= expiresAt {
                    var last = failure
                    last.kind = .permanent
                    last.code = Self.expiredCode
                    last.message = "expired at \(RFC3339.format(expiresAt)) before the next try; last: \(failure.description)"
                    return DeliveryTransition(state: .failed, actions: [.recordFailed(last)])
                }
                return DeliveryTransition(state: .deferred, actions: [.recordDeferred(failure, until: at)])
            case .giveUp(let reason):
                var final = failure
                if reason != failure.description { final.message = reason }
                return DeliveryTransition(state: .failed, actions: [.recordFailed(final)])
            }
        case .requeue, .release:
            return DeliveryTransition(state: .pending, actions: [.recordPending(notBefore: max(delivery.notBefore, now))])
        case .hold(let reason):
            return DeliveryTransition(state: .held, actions: [.recordHeld(reason: reason)])
        case .expire:
            return expired(delivery)
        case .recover:
            return DeliveryTransition(state: .pending, actions: [.recordPending(notBefore: delivery.notBefore)])
        case .interrupted(let reason):
            return DeliveryTransition(state: .pending, actions: [.recordInterrupted(reason: reason)])
        }
    }

    private func expired(_ delivery: Delivery) -> DeliveryTransition {
        let when = delivery.expiresAt.map(RFC3339.format) ?? "now"
        let failure = DeliveryFailure(kind: .permanent, code: Self.expiredCode,
                                      message: "expired at \(when): its moment has passed, not sent late")
        return DeliveryTransition(state: .failed, actions: [.recordFailed(failure)])
    }
}

/// Whether a scheduled send missed while herold was down is still worth sending: a
/// reminder within `grace` of its time goes out late; one missed by more is not sent — "7
/// days left" a week late misleads — but fails with the reason. Only a first try counts (a
/// retry is late by design; a requeued delivery is due again from the requeue).
public struct Lateness: Sendable {
    public var grace: TimeInterval
    /// Rules whose sends are scheduled ahead (reminders).
    public var scheduledRules: Set<String>
    /// A due moment as people read it (local time).
    public var describe: @Sendable (Date) -> String

    public init(grace: TimeInterval, scheduledRules: Set<String>, describe: @escaping @Sendable (Date) -> String) {
        self.grace = grace
        self.scheduledRules = scheduledRules
        self.describe = describe
    }

    /// No downtime rule: only `expiresAt` decides.
    public static let never = Lateness(grace: .infinity, scheduledRules: [], describe: RFC3339.format)

    /// The reason a send missed by more than `grace`, as people read it.
    public func reason(dueAt: Date) -> String { "expired: due at \(describe(dueAt)), herold was down" }

    /// The failure for a delivery claimed too late, or nil when it may go.
    public func missed(_ delivery: Delivery, now: Date) -> DeliveryFailure? {
        guard delivery.attempts == 0, scheduledRules.contains(delivery.rule),
              now.timeIntervalSince(delivery.notBefore) > grace else { return nil }
        return DeliveryFailure(kind: .permanent, code: DeliveryLifecycle.expiredCode, message: reason(dueAt: delivery.notBefore))
    }
}
