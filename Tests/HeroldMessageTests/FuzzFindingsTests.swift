import HeroldCore
import HeroldMessage
import XCTest

/// Cases found by fuzzing (Fuzz/, targets fuzz-address and fuzz-mime).
final class FuzzFindingsTests: XCTestCase {
    func testLeadingZerosInAnIPv4PartStillMakeAnIPLiteral() throws {
        // inet_aton (and so the resolver) reads these as 127.0.0.1 and 0.0.0.16.
        XCTAssertEqual(AddressPolicy.refusal(forHost: "0000000000000177.0.0.1"), "a loopback address")
        XCTAssertEqual(AddressPolicy.refusal(forHost: "0000000000000020"), "an unspecified address")
        XCTAssertThrowsError(try WebhookURL.parse("http://0000000000000177.0.0.1:8080/hook").checkAllowed(allowPrivate: false))
    }

    func testADisplayNameAtomLongerThanALineGoesAsEncodedWords() throws {
        let name = String(repeating: "A", count: 1000)
        let content = EmailContent(from: "Powiadomienia <powiadomienia@example.org>", to: "\(name) <gops@example.org>",
                                   subject: "Temat", text: "Treść\n")
        let email = try EmailComposer().compose(content, id: DeliveryID(rawValue: "hd_long_name"), date: Date(timeIntervalSince1970: 0))
        let raw = String(decoding: email.bytes, as: UTF8.self)
        let head = try XCTUnwrap(raw.components(separatedBy: "\r\n\r\n").first)
        XCTAssertTrue(head.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 }, head)
        let to = try XCTUnwrap(MIMEDecoders.unfold(head).components(separatedBy: "\r\n").first { $0.hasPrefix("To: ") })
        XCTAssertTrue(to.hasSuffix(" <gops@example.org>"), to)
        let value = to.dropFirst("To: ".count).dropLast(" <gops@example.org>".count)
        XCTAssertEqual(MIMEDecoders.decodeUnstructured(String(value)), name)
    }
}
