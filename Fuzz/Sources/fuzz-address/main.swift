// The address checks: mailboxes (HeroldCore Mailbox), webhook URLs and the private-address
// policy (HeroldMessage). Invariants: nothing accepted holds CR, LF, NUL or another control
// character; an accepted value re-parses to the same value; the policy judges an IP literal
// the way the C library reads it (inet_aton, inet_pton), compared on its canonical form.
import Foundation
import FuzzSupport
import Glibc
import HeroldCore
import HeroldMessage

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    checkMailbox(text)
    checkWebhookURL(text)
    checkPolicy(text)
    return 0
}

/// A NUL-terminated C buffer as text.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func hasControl(_ text: String) -> Bool { text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }

func checkMailbox(_ text: String) {
    guard let mailbox = try? Mailbox.parse(text) else { return }
    require(!hasControl(mailbox.address) && !hasControl(mailbox.displayName ?? ""), "accepted a control character")
    require(mailbox.address.utf8.count <= 254 && mailbox.address.contains("@"), "accepted a bad address")
    require(!mailbox.domain.isEmpty, "empty domain")
    let again = try? Mailbox.parse(mailbox.description)
    require(again == mailbox, "\(text.debugDescription) -> \(mailbox.description.debugDescription) re-parses as \(String(describing: again))")
}

func checkWebhookURL(_ text: String) {
    guard let url = try? WebhookURL.parse(text) else { return }
    require(!text.unicodeScalars.contains { $0.value <= 0x20 || $0.value >= 0x7F }, "accepted a control, space or non-ASCII URL")
    require(!url.host.isEmpty && !url.host.contains("/") && !url.host.contains("@"), "bad host \(url.host)")
    require(url.target.hasPrefix("/") && !url.target.contains("#"), "bad request target \(url.target)")
    require(url.port.map { (1...65535).contains($0) } ?? true, "bad port")
    let again = try? WebhookURL.parse(url.description)
    require(again == url, "URL does not re-parse to itself")
    let host = url.hostHeader
    require(!hasControl(host) && !host.contains(" "), "bad Host header")
}

/// An IP literal the C library accepts is judged as its canonical form is.
func checkPolicy(_ text: String) {
    guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value >= 0x7F }) else { return }
    var v4 = in_addr()
    if inet_aton(text, &v4) != 0 {
        var buffer = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count)) != nil else { return }
        let canonical = cText(buffer)
        require(AddressPolicy.refusal(forIP: text) == AddressPolicy.refusal(forIP: canonical),
                "IPv4 \(text) is \(canonical): policy says \(AddressPolicy.refusal(forIP: text).debugDescription) vs \(AddressPolicy.refusal(forIP: canonical).debugDescription)")
    }
    let withoutZone = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? text
    var v6 = in6_addr()
    if inet_pton(AF_INET6, withoutZone, &v6) == 1 {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return }
        let canonical = cText(buffer)
        require(AddressPolicy.refusal(forIP: text) == AddressPolicy.refusal(forIP: canonical),
                "IPv6 \(text) is \(canonical): policy says \(AddressPolicy.refusal(forIP: text).debugDescription) vs \(AddressPolicy.refusal(forIP: canonical).debugDescription)")
        // As a URL host it may be refused for more (a zone ending in ".localhost"), never for less.
        require(AddressPolicy.refusal(forIP: canonical) == nil || AddressPolicy.refusal(forHost: "[\(text)]") != nil,
                "bracketed host [\(text)] passes, but \(canonical) is refused")
    }
}

runFuzzer(testOneInput)
