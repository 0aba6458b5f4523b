import Foundation
import HeroldCore

/// A message ready for SMTP: the envelope and the exact RFC 5322 bytes (CRLF everywhere).
public struct ComposedEmail: Sendable, Equatable {
    public var deliveryID: DeliveryID
    /// Envelope sender (`MAIL FROM`), a bare address.
    public var envelopeFrom: String
    /// Envelope recipient (`RCPT TO`), a bare address.
    public var recipient: String
    /// The `Message-ID` value, angle brackets included.
    public var messageID: String
    public var bytes: Data

    public init(deliveryID: DeliveryID, envelopeFrom: String, recipient: String, messageID: String, bytes: Data) {
        self.deliveryID = deliveryID
        self.envelopeFrom = envelopeFrom
        self.recipient = recipient
        self.messageID = messageID
        self.bytes = bytes
    }
}
