import HeroldCore
import XCTest

/// Mailbox cases found by fuzzing (Fuzz/, target fuzz-address).
final class MailboxTests: XCTestCase {
    func testSpacesInsideQuotesAreTrimmedSoTheMailboxReparsesFromItsDescription() throws {
        let mailbox = try Mailbox.parse(#""Jan Kowalski " <jan@example.org>"#)
        XCTAssertEqual(mailbox.displayName, "Jan Kowalski")
        XCTAssertEqual(try Mailbox.parse(mailbox.description), mailbox)
    }

    func testLineBreaksAndNulAreRefused() {
        for text in ["x <a@b.pl>\r\nBcc: c@d.pl", "a@b.pl\n", "a@b.pl\u{0}"] {
            XCTAssertThrowsError(try Mailbox.parse(text), text.debugDescription) { error in
                XCTAssertEqual(error as? Mailbox.ParseError, .controlCharacter)
            }
        }
    }
}
