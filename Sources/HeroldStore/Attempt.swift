import Foundation
import HeroldCore

/// How one try to deliver ended.
public enum AttemptOutcome: String, Sendable, Codable, CaseIterable {
    case sent
    case failed
    case deferred
}

/// One recorded try to deliver: what happened and what the server or libcurl said.
public struct Attempt: Sendable, Equatable {
    public var deliveryID: DeliveryID
    public var at: Date
    public var outcome: AttemptOutcome
    /// The failure's code (`smtp.450`, `curl.7`); nil when sent.
    public var code: String?
    /// The server's reply or the failure's message.
    public var message: String?

    public init(deliveryID: DeliveryID, at: Date, outcome: AttemptOutcome, code: String?, message: String?) {
        self.deliveryID = deliveryID
        self.at = at
        self.outcome = outcome
        self.code = code
        self.message = message
    }
}
