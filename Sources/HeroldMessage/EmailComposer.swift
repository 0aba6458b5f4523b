import Foundation
import HeroldCore

/// Builds the RFC 5322 message for one email delivery: UTF-8, RFC 2047 headers, quoted-printable
/// text, a Message-ID stable across retries. Refuses CR/LF/NUL anywhere in a header.
public struct EmailComposer: Sendable {
    /// The zone the `Date:` header is written in.
    public var timeZone: TimeZone

    public init(timeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current) {
        self.timeZone = timeZone
    }

    /// The message for `content`, sent as delivery `id` at `date`.
    public func compose(_ content: EmailContent, id: DeliveryID, date: Date) throws(MessageError) -> ComposedEmail {
        let addresses = try Self.addresses(content, id: id)
        let messageID = "<\(id.rawValue)@\(addresses.from.domain)>"
        var head = ""
        head += "Date: \(RFC5322Date.format(date, timeZone: timeZone))\r\n"
        head += Self.addressField(name: "From", addresses.from)
        if let sender = addresses.sender {
            head += Self.addressField(name: "Sender", sender)
        }
        head += Self.addressField(name: "To", addresses.to)
        if let replyTo = addresses.replyTo {
            head += Self.addressField(name: "Reply-To", replyTo)
        }
        head += HeaderEncoding.unstructuredField(name: "Subject", value: content.subject)
        head += "Message-ID: \(messageID)\r\n"
        if let unsubscribe = content.listUnsubscribe {
            head += try Self.listUnsubscribeFields(unsubscribe)
        }
        head += "MIME-Version: 1.0\r\n"
        head += "Auto-Submitted: auto-generated\r\n"

        var root = try Self.body(content, id: id)
        if root.headers.first?.hasPrefix("Content-Type: multipart/") == true {
            root.body = "This is a multi-part message in MIME format.\r\n" + root.body
        }
        let bytes = Data((head + root.serialized).utf8)
        return ComposedEmail(deliveryID: id, envelopeFrom: addresses.from.address, recipient: addresses.to.address,
                             messageID: messageID, bytes: bytes)
    }

    /// Throws exactly what `compose` would throw for `content` (at any date), without encoding
    /// the text or reading the attachments' bytes: each attachment is opened and checked
    /// (confined below its root, a regular file within its size limit) and closed. For planning,
    /// where a message that cannot be built is held at once; it is composed once, at send time.
    public func validate(_ content: EmailContent, id: DeliveryID) throws(MessageError) {
        _ = try Self.addresses(content, id: id)
        if let unsubscribe = content.listUnsubscribe {
            _ = try Self.listUnsubscribeFields(unsubscribe)
        }
        for ref in content.attachments {
            try Self.refuseControls(ref.name, field: "attachment name")
            try AttachmentReader.check(ref)
        }
    }

    /// The message's mailboxes, each refused for controls and parsed, and the id checked: the
    /// checks of every header that can fail, in the order `compose` meets them.
    private static func addresses(_ content: EmailContent, id: DeliveryID) throws(MessageError) -> Addresses {
        try refuseControls(content.from, field: "From")
        try refuseControls(content.to, field: "To")
        try refuseControls(content.subject, field: "Subject")
        let from = try mailbox(content.from, field: "From")
        let to = try mailbox(content.to, field: "To")
        guard id.isSafeToken else { throw .invalidDeliveryID(id.rawValue) }
        var addresses = Addresses(from: from, to: to)
        if let sender = content.sender {
            try refuseControls(sender, field: "Sender")
            addresses.sender = try mailbox(sender, field: "Sender")
        }
        if let replyTo = content.replyTo {
            try refuseControls(replyTo, field: "Reply-To")
            addresses.replyTo = try mailbox(replyTo, field: "Reply-To")
        }
        return addresses
    }

    private struct Addresses {
        var from: Mailbox
        var to: Mailbox
        var sender: Mailbox?
        var replyTo: Mailbox?
    }

    /// text/plain alone; with HTML, multipart/alternative (text first, as RFC 2046 orders
    /// plainest first); with attachments, multipart/mixed around that.
    static func body(_ content: EmailContent, id: DeliveryID) throws(MessageError) -> MIMEPart {
        var main = MIMEPart.text(content.text, subtype: "plain")
        if let html = content.html {
            main = try MIMEPart.multipart("alternative", boundary: "=_herold_alt_\(id.rawValue)",
                                          parts: [main, MIMEPart.text(html, subtype: "html")])
        }
        guard !content.attachments.isEmpty else { return main }
        var parts = [main]
        for ref in content.attachments {
            try refuseControls(ref.name, field: "attachment name")
            parts.append(MIMEPart.attachment(name: ref.name, bytes: try AttachmentReader.read(ref)))
        }
        return try MIMEPart.multipart("mixed", boundary: "=_herold_mix_\(id.rawValue)", parts: parts)
    }

    /// `List-Unsubscribe` (RFC 2369), and `List-Unsubscribe-Post` (RFC 8058 one-click) when
    /// an https URL is offered. Only `<...>` items of ASCII are accepted.
    static func listUnsubscribeFields(_ value: String) throws(MessageError) -> String {
        try refuseControls(value, field: "List-Unsubscribe")
        let items = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty, value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }),
              items.allSatisfy({ $0.count > 2 && $0.hasPrefix("<") && $0.hasSuffix(">")
                  && !$0.dropFirst().dropLast().contains(where: { "<> ".contains($0) }) })
        else {
            throw .invalidAddress(field: "List-Unsubscribe",
                                  reason: "expected <mailto:...> and/or <https://...> items separated by commas")
        }
        var out = HeaderEncoding.fold(prefix: "List-Unsubscribe: ",
                                      tokens: items.enumerated().map { $0.offset < items.count - 1 ? $0.element + "," : $0.element })
        if items.contains(where: { $0.lowercased().hasPrefix("<https:") }) {
            out += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        }
        return out
    }

    /// CR, LF and NUL get their own error: they are how header and SMTP command injection is done.
    static func refuseControls(_ text: String, field: String) throws(MessageError) {
        // On the UTF-8 bytes: every control is ASCII, and no byte of a longer character is below 0x80.
        for byte in text.utf8 {
            switch byte {
            case 0x00, 0x0A, 0x0D: throw .headerInjection(field: field)
            case 0x09: continue
            case 0x01...0x1F, 0x7F: throw .controlCharacter(field: field)
            default: continue
            }
        }
    }

    private static func mailbox(_ text: String, field: String) throws(MessageError) -> Mailbox {
        switch Result(catching: { () throws(Mailbox.ParseError) -> Mailbox in try Mailbox.parse(text) }) {
        case .success(let mailbox): return mailbox
        case .failure(.controlCharacter): throw .headerInjection(field: field)
        case .failure(.malformed(let why)): throw .invalidAddress(field: field, reason: why)
        }
    }

    /// `addr`, or `Name <addr>` with the name as atoms, a quoted string, or encoded words, folded.
    static func addressField(name: String, _ mailbox: Mailbox) -> String {
        let prefix = name + ": "
        let angle = "<\(mailbox.address)>"
        guard let display = mailbox.displayName, !display.isEmpty else {
            return HeaderEncoding.fold(prefix: prefix, tokens: [mailbox.address])
        }
        var tokens: [String]
        let words = display.split(separator: " ", omittingEmptySubsequences: false)
        if HeaderEncoding.needsEncoding(display) {
            tokens = HeaderEncoding.encodedWords(display, firstLineRoom: HeaderEncoding.preferredLineLength - prefix.count)
        } else if words.allSatisfy({ !$0.isEmpty && $0.count < HeaderEncoding.preferredLineLength
                                       && $0.utf8.allSatisfy { ByteClass.atext.contains($0) } }) {
            // An atom longer than a line cannot be folded (a 998-octet line at worst): such names go as encoded words.
            tokens = words.map(String.init)
        } else {
            let quoted = "\"" + display.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"") + "\""
            // A quoted string cannot be folded simply; long ones go as encoded words instead.
            tokens = quoted.count + prefix.count <= HeaderEncoding.preferredLineLength - 2
                ? [quoted]
                : HeaderEncoding.encodedWords(display, firstLineRoom: HeaderEncoding.preferredLineLength - prefix.count)
        }
        return HeaderEncoding.fold(prefix: prefix, tokens: tokens + [angle])
    }
}

extension DeliveryID {
    private static let tokenCharacters = ByteClass("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

    /// Letters, digits, `_` and `-` only: safe as a Message-ID local part, a header value and a file name.
    public var isSafeToken: Bool {
        !rawValue.isEmpty && rawValue.utf8.count <= 128
            && rawValue.utf8.allSatisfy { Self.tokenCharacters.contains($0) }
    }
}
