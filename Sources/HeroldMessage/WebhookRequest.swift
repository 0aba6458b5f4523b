import Foundation
import HeroldCore

/// One header of a webhook request.
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A signed Standard Webhooks POST, ready for the HTTP sender or the outbox.
public struct WebhookRequest: Sendable, Equatable {
    public var deliveryID: DeliveryID
    public var url: WebhookURL
    /// Content-Type, User-Agent and the three `webhook-*` headers, in that order.
    public var headers: [HeaderField]
    public var body: Data
    /// When false the sender also refuses non-public addresses the host name resolves to.
    public var allowPrivateAddresses: Bool

    public static let userAgent = "herold/0.1"

    public init(deliveryID: DeliveryID, url: WebhookURL, headers: [HeaderField], body: Data,
                allowPrivateAddresses: Bool) {
        self.deliveryID = deliveryID
        self.url = url
        self.headers = headers
        self.body = body
        self.allowPrivateAddresses = allowPrivateAddresses
    }

    /// Builds and signs the request: `webhook-id` is the delivery id (stable across retries),
    /// `webhook-timestamp` is `timestamp` (fresh per attempt). With `previousSecret` (key
    /// rotation) `webhook-signature` holds both signatures, the new one first, space-separated.
    /// `extraHeaders` follow ours; CR/LF and names herold sets itself are refused.
    public static func build(url: String, secret: WebhookSecret, id: DeliveryID, timestamp: Date,
                             contentType: String, body: Data, allowPrivate: Bool,
                             previousSecret: WebhookSecret? = nil,
                             extraHeaders: [HeaderField] = []) throws(MessageError) -> WebhookRequest {
        let parsed = try WebhookURL.parse(url)
        try parsed.checkAllowed(allowPrivate: allowPrivate)
        try EmailComposer.refuseControls(contentType, field: "Content-Type")
        guard id.isSafeToken else { throw .invalidDeliveryID(id.rawValue) }
        let seconds = Int64(timestamp.timeIntervalSince1970.rounded(.down))
        var signature = WebhookSignature.sign(secret: secret, id: id.rawValue, timestamp: seconds, body: body)
        if let previousSecret {
            signature += " " + WebhookSignature.sign(secret: previousSecret, id: id.rawValue, timestamp: seconds, body: body)
        }
        var headers = [
            HeaderField(name: "Content-Type", value: contentType),
            HeaderField(name: "User-Agent", value: userAgent),
            HeaderField(name: "webhook-id", value: id.rawValue),
            HeaderField(name: "webhook-timestamp", value: String(seconds)),
            HeaderField(name: "webhook-signature", value: signature),
        ]
        let own = headers.count
        for header in extraHeaders {
            try EmailComposer.refuseControls(header.name, field: "header name")
            try EmailComposer.refuseControls(header.value, field: header.name)
            let lower = header.name.lowercased()
            guard !header.name.isEmpty, header.name.unicodeScalars.allSatisfy({ Self.tokenCharacters.contains($0) }),
                  !Self.framingHeaders.contains(lower), !headers[..<own].contains(where: { $0.name.lowercased() == lower }),
                  !lower.hasPrefix("webhook-") else {
                throw .invalidHeader(header.name)
            }
            headers.append(header)
        }
        return WebhookRequest(deliveryID: id, url: parsed, headers: headers, body: body,
                              allowPrivateAddresses: allowPrivate)
    }

    /// Header names (lowercased) that frame the request: an endpoint's `headers:` may not set
    /// them, nor herold's own.
    private static let framingHeaders: Set<String> = ["host", "content-length", "transfer-encoding", "connection", "expect"]
    /// The characters of an HTTP header name (RFC 9110 `token`).
    private static let tokenCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~".unicodeScalars)

    /// The request as HTTP/1.1 bytes: request line, Host, our headers, Content-Length, body.
    public func httpBytes() -> Data {
        var head = "POST \(url.target) HTTP/1.1\r\nHost: \(url.hostHeader)\r\n"
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Data(head.utf8) + body
    }
}
