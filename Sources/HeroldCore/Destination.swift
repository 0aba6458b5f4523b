/// Where a delivery goes, as a lane: the SMTP relay (one for all email), or one webhook
/// endpoint. Each destination has its own queue, its own limit of transfers at once and
/// its own health, so a slow or dead one only holds up its own deliveries.
public struct Destination: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// `smtp`, or `webhook:NAME`: stored in the journal.
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// The relay every email goes through.
    public static let smtp = Destination(rawValue: "smtp")

    public static func webhook(_ endpoint: String) -> Destination {
        Destination(rawValue: "webhook:\(endpoint)")
    }

    public var description: String { rawValue }

    public static func < (lhs: Destination, rhs: Destination) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Delivery {
    /// The lane this delivery waits in.
    public var destination: Destination {
        switch channel {
        case .email: return .smtp
        case .webhook: return .webhook(recipient)
        }
    }
}
