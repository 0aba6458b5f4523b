/// Why an attachment (and so its delivery) cannot be used; shown as the held reason.
public struct DeliveryHoldReason: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
