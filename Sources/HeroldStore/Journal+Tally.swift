import Foundation
import GRDB
import HeroldCore

/// How many deliveries of one destination are in one state.
public struct DeliveryTally: Sendable, Equatable {
    public var destination: Destination
    public var state: DeliveryState
    public var count: Int

    public init(destination: Destination, state: DeliveryState, count: Int) {
        self.destination = destination
        self.state = state
        self.count = count
    }

    /// The channel of the destination's deliveries: `smtp` carries email, `webhook:NAME` webhooks.
    public var channel: Channel { destination.rawValue.hasPrefix("webhook:") ? .webhook : .email }
}

extension Journal {
    /// Deliveries by destination and state, for the metrics' gauges. Read from the
    /// destination index alone, in its order, so a journal of years costs an index scan
    /// and no table rows.
    public func tally() async throws -> [DeliveryTally] {
        try await read("count deliveries by destination and state") { db in
            try Row.fetchAll(db, sql: """
                SELECT destination, state, COUNT(*) AS n FROM deliveries INDEXED BY deliveries_destination_due
                GROUP BY destination, state
                """).map { row in
                let text: String = row["state"]
                guard let state = DeliveryState(rawValue: text) else {
                    throw JournalError(kind: .corrupt, file: "", operation: "",
                                       message: "deliveries have an unknown state \(text)")
                }
                return DeliveryTally(destination: Destination(rawValue: row["destination"]), state: state, count: row["n"])
            }
        }
    }
}
