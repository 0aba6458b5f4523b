import Foundation
import HeroldCore
import XCTest

final class RecipientPseudonymTests: XCTestCase {
    func testMaskKeepsTheFirstLetterAndTheDomain() {
        XCTAssertEqual(RecipientPseudonym.mask("jan.kowalski@mops.example.org"), "j***@mops.example.org")
        XCTAssertEqual(RecipientPseudonym.mask("not-an-address"), "***")
    }

    func testHashIsKeyedStableAndIgnoresCase() {
        let a = RecipientPseudonym(key: Array(repeating: 1, count: 32))
        let b = RecipientPseudonym(key: Array(repeating: 2, count: 32))
        XCTAssertEqual(a.hash("Jan@Example.org"), a.hash(" jan@example.org"))
        XCTAssertNotEqual(a.hash("jan@example.org"), b.hash("jan@example.org"), "another key, another hash")
        XCTAssertNotEqual(a.hash("jan@example.org"), a.hash("jana@example.org"))
        XCTAssertTrue(a.hash("jan@example.org").hasPrefix("h:"))
        XCTAssertEqual(a.hash("jan@example.org").count, 28)
    }

    func testAddressesInFreeTextAreFoundAndReplaced() {
        let reply = "550 5.1.1 <jan.kowalski@gops.example.org>: Recipient address rejected; from powiadomienia@rops.example.org."
        let masked = AddressText.replacingAddresses(in: reply, RecipientPseudonym.mask)
        XCTAssertEqual(masked, "550 5.1.1 <j***@gops.example.org>: Recipient address rejected; from p***@rops.example.org.")
        XCTAssertEqual(AddressText.replacingAddresses(in: "webhook:partnerzy-hub a@b", RecipientPseudonym.mask),
                       "webhook:partnerzy-hub a@b", "no domain with a dot: not an address")
    }
}
