import HeroldCore

/// Why a message or webhook request cannot be built. Always permanent: retrying cannot fix it.
public enum MessageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// CR, LF or NUL in a header value, display name or address: a header/command injection attempt.
    case headerInjection(field: String)
    /// Another control character where none may be.
    case controlCharacter(field: String)
    /// An address `HeroldCore.Mailbox` refuses.
    case invalidAddress(field: String, reason: String)
    /// A delivery id unusable as a Message-ID local part or a file name.
    case invalidDeliveryID(String)
    /// A webhook secret that is not `whsec_` + base64.
    case invalidSecret(String)
    /// A webhook URL that does not parse or is not http(s).
    case invalidURL(String)
    /// A webhook URL naming a loopback, private, link-local or metadata address.
    case addressNotAllowed(host: String, reason: String)
    /// An attachment that cannot be read (missing, not a regular file, too big).
    case attachment(name: String, reason: String)
    /// An extra webhook header that is not a token or is one herold sets itself.
    case invalidHeader(String)

    public var description: String {
        switch self {
        case .headerInjection(let field):
            return "\(field) contains CR, LF or NUL (header injection refused)"
        case .controlCharacter(let field):
            return "\(field) contains a control character"
        case .invalidAddress(let field, let reason):
            return "\(field): \(reason)"
        case .invalidDeliveryID(let id):
            return "delivery id \"\(id)\" may only hold letters, digits, '_' and '-'"
        case .invalidSecret(let why):
            return "webhook secret: \(why)"
        case .invalidURL(let why):
            return "webhook URL: \(why)"
        case .addressNotAllowed(let host, let reason):
            return "webhook URL host \(host) is \(reason); set allow_private: true to allow it"
        case .attachment(let name, let reason):
            return "attachment \"\(name)\": \(reason)"
        case .invalidHeader(let name):
            return "webhook header \"\(name)\" is not allowed (not a header name, or set by herold itself)"
        }
    }

    /// The journal's view: permanent, `webhook.address-refused` for refused hosts, else `message.invalid`.
    public var deliveryFailure: DeliveryFailure {
        switch self {
        case .addressNotAllowed:
            return DeliveryFailure(kind: .permanent, code: "webhook.address-refused", message: description)
        case .attachment:
            return DeliveryFailure(kind: .permanent, code: "message.attachment", message: description)
        default:
            return DeliveryFailure(kind: .permanent, code: "message.invalid", message: description)
        }
    }
}
