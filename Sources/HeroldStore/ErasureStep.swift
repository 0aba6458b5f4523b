import Foundation
import HeroldCore

/// What `forget` did, in counts (it never prints content).
public struct ErasureReport: Sendable, Equatable {
    /// Deliveries to the person still to be sent: now failed, "erased on request".
    public var cancelled = 0
    /// Deliveries to the person already finished: their message and address erased.
    public var erased = 0
    /// Events whose data named the person: their body erased.
    public var events = 0
    /// Finished messages to other people that named the person: their content erased.
    public var othersErased = 0
    /// Messages to other people still to be sent that named the person: the address or
    /// name replaced by `Journal.erasedText`; they go out without it.
    public var othersRewritten = 0
    /// Servers' replies and reasons that named the person, erased.
    public var replies = 0
    /// Deliveries that stayed in flight until the end (their content is erased, but the
    /// reply recorded when they finish may still name the person: run forget again).
    public var inFlight = 0

    public init() {}

    /// Counts one delivery handled by `step` (a delivery still in flight counts nowhere yet).
    public mutating func count(_ step: ErasureStep) {
        switch step {
        case .wait: break
        case .erase: erased += 1
        case .cancel: cancelled += 1
        case .eraseOthers: othersErased += 1
        case .rewrite: othersRewritten += 1
        }
    }

    /// Adds the delivery counts of `other` (one pass over some deliveries) to these.
    public mutating func addDeliveries(of other: ErasureReport) {
        cancelled += other.cancelled
        erased += other.erased
        othersErased += other.othersErased
        othersRewritten += other.othersRewritten
    }
}

/// What to look for when `forget` is asked for `addresses` and `names`: the addresses
/// trimmed (blank ones dropped), and the terms searched in every text, addresses and
/// names of at least 3 characters (shorter ones would match too much).
public struct ErasureRequest: Sendable, Equatable {
    public let addresses: [String]
    public let terms: [String]

    public init(addresses: [String], names: [String]) {
        self.addresses = addresses.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        terms = (self.addresses + names.map { $0.trimmingCharacters(in: .whitespaces) }).filter { $0.count >= 3 }
    }
}

/// What `forget` does with one delivery that names the person, decided from its state and
/// whether it is addressed to the person (`own`) or to someone else whose message names
/// them. The one rule every journal follows; the journal only carries it out.
public enum ErasureStep: Sendable, Equatable, CaseIterable {
    /// In flight (on any node): left alone, decided again once it has finished.
    case wait
    /// The person's own, finished (sent or failed): content erased, recipient replaced.
    case erase
    /// The person's own, still due: ended as failed with `Journal.erasedReason`, content
    /// erased, recipient replaced; it is never sent.
    case cancel
    /// Someone else's, finished, naming the person: content erased, recipient kept.
    case eraseOthers
    /// Someone else's, still due, naming the person: the person's address and names
    /// replaced by `Journal.erasedText` in its message; it still goes out.
    case rewrite

    public init(state: DeliveryState, own: Bool) {
        switch (state, own) {
        case (.inflight, _): self = .wait
        case (.sent, true), (.failed, true): self = .erase
        case (_, true): self = .cancel
        case (.sent, false), (.failed, false): self = .eraseOthers
        case (_, false): self = .rewrite
        }
    }

    /// Whether the delivery's content is erased (`eraseContent`); otherwise it is waited
    /// for or rewritten.
    public var erasesContent: Bool { self == .erase || self == .cancel || self == .eraseOthers }

    /// Whether the delivery, still due, ends as `failed` before its content is erased.
    public var endsDelivery: Bool { self == .cancel }

    /// The recipient left on a delivery whose content is erased: nothing that links it to
    /// the person on their own deliveries, the other person's address on theirs.
    public func keptRecipient(_ recipient: String) -> String {
        self == .eraseOthers ? recipient : Journal.erasedRecipient
    }

    /// The reason left on a delivery whose content is erased (nil: none).
    public var erasedReason: String? { self == .cancel ? Journal.erasedReason : nil }
}
