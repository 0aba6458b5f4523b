import HeroldCore
import XCTest

/// Mailbox cases found by fuzzing (Fuzz/, target fuzz-address).
final class MailboxFuzzFindingsTests: XCTestCase {
    func testSpacesInsideQuotesAreTrimmedSoTheMailboxReparsesFromItsDescription() throws {
        let mailbox = try Mailbox.parse(#""Jan Kowalski " <jan@example.org>"#)
        XCTAssertEqual(mailbox.displayName, "Jan Kowalski")
        XCTAssertEqual(try Mailbox.parse(mailbox.description), mailbox)
    }
}
