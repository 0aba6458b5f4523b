import HeroldCore
import XCTest

/// The envelope checks every message passes at send time: each way an address can be wrong
/// gives its own reason (the text a held or failed delivery shows the operator).
final class MailboxValidationTests: XCTestCase {
    func reason(_ address: String) -> String? {
        do {
            try Mailbox.validate(address: address)
            return nil
        } catch {
            return error.description
        }
    }

    func testEveryKindOfBadAddressIsRefusedWithItsReason() {
        let notAnAddress = "is not an address of the form name@domain"
        let badLocal = "the part before @ has characters not allowed in an address"
        let badDomain = "the domain is not a valid host name"
        let expectations: [(String, String)] = [
            ("", notAnAddress), ("gops", notAnAddress), ("@example.org", notAnAddress), ("gops@", notAnAddress),
            ("a@b@example.org", notAnAddress), ("@", notAnAddress),
            ("ą@example.org", badLocal), ("a b@example.org", badLocal), (".a@example.org", badLocal),
            ("a.@example.org", badLocal), ("a..b@example.org", badLocal), ("a\"b@example.org", badLocal),
            ("a(b)@example.org", badLocal), ("a<b@example.org", badLocal), ("a\u{301}@example.org", badLocal),
            ("a@example..org", badDomain), ("a@.example.org", badDomain), ("a@example.org.", badDomain),
            ("a@-example.org", badDomain), ("a@example-.org", badDomain), ("a@exa_mple.org", badDomain),
            ("a@kraków.pl", badDomain), ("a@[127.0.0.1]", badDomain), ("a@" + String(repeating: "x", count: 64) + ".pl", badDomain),
        ]
        for (address, expected) in expectations {
            let got = reason(address)
            XCTAssertTrue(got?.hasSuffix(expected) == true, "\(address.debugDescription): \(got ?? "accepted")")
        }
        XCTAssertEqual(reason("a@" + String(repeating: "x", count: 260) + ".pl"), "address is longer than 254 characters")
    }

    func testEveryCharacterADotAtomAllowsIsAccepted() {
        for address in ["a@example.org", "Anna.Kowalska@OPS.Example.ORG", "!#$%&'*+-/=?^_`{|}~@example.org",
                        "a.b.c@x-y.example.org", "1@2.pl", "a@" + String(repeating: "x", count: 63) + ".pl", "a@localhost"] {
            XCTAssertNil(reason(address), address)
        }
    }

    func testDisplayNamesWithQuotesOrAngleBracketsInsideAreRefused() throws {
        XCTAssertEqual(try Mailbox.parse("  \"Jan Kowalski\"  <jan@example.org>  ").displayName, "Jan Kowalski")
        for text in ["Jan \"K\" Kowalski <jan@example.org>", "Jan <K> <jan@example.org>", "Jan > K <jan@example.org>"] {
            XCTAssertThrowsError(try Mailbox.parse(text), text) { error in
                XCTAssertEqual(error as? Mailbox.ParseError, .malformed("display name must not contain quotes or angle brackets"))
            }
        }
    }
}
