import HeroldCore
import HeroldMessage
import XCTest

final class EmailComposerTests: XCTestCase {
    let id = DeliveryID(rawValue: "hd_abcdefghijklmnopqrstuvwx")
    let date = Date(timeIntervalSince1970: 1_795_248_000)  // 2026-11-21 08:00:00 UTC

    func content(from: String = "Powiadomienia ROPS <powiadomienia@example.org>",
                 to: String = "gops@example.org",
                 subject: String = "Dzień Pracownika Socjalnego — życzenia",
                 text: String = "Szanowni Państwo,\nżyczymy wszystkiego dobrego.\n") -> EmailContent {
        EmailContent(from: from, to: to, subject: subject, text: text)
    }

    func testComposedMessageHasCRLFEverywhereAndTheRequiredHeaders() throws {
        let warsaw = try XCTUnwrap(TimeZone(identifier: "Europe/Warsaw"))
        let email = try EmailComposer(timeZone: warsaw).compose(content(), id: id, date: date)
        let raw = String(decoding: email.bytes, as: UTF8.self)
        XCTAssertFalse(raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "no bare LF")
        XCTAssertFalse(raw.replacingOccurrences(of: "\r\n", with: "").contains("\r"), "no bare CR")
        XCTAssertTrue(raw.hasSuffix("\r\n"))
        XCTAssertTrue(raw.utf8.allSatisfy { $0 < 0x80 }, "7-bit on the wire")
        let head = try XCTUnwrap(raw.components(separatedBy: "\r\n\r\n").first)
        let lines = head.components(separatedBy: "\r\n")
        XCTAssertTrue(lines.allSatisfy { $0.count <= 78 }, head)
        XCTAssertTrue(lines.contains("Date: Sat, 21 Nov 2026 09:00:00 +0100"))
        XCTAssertTrue(lines.contains("Message-ID: <hd_abcdefghijklmnopqrstuvwx@example.org>"))
        XCTAssertTrue(lines.contains("MIME-Version: 1.0"))
        XCTAssertTrue(lines.contains("Content-Type: text/plain; charset=utf-8"))
        XCTAssertTrue(lines.contains("Content-Transfer-Encoding: quoted-printable"))
        XCTAssertTrue(lines.contains("Auto-Submitted: auto-generated"))
        XCTAssertTrue(lines.contains("From: Powiadomienia ROPS <powiadomienia@example.org>"))
        XCTAssertTrue(lines.contains("To: gops@example.org"))
        XCTAssertEqual(email.envelopeFrom, "powiadomienia@example.org")
        XCTAssertEqual(email.recipient, "gops@example.org")
        XCTAssertEqual(email.messageID, "<hd_abcdefghijklmnopqrstuvwx@example.org>")
    }

    func testSameDeliveryGivesTheSameMessageID() throws {
        let first = try EmailComposer().compose(content(), id: id, date: date)
        let retry = try EmailComposer().compose(content(), id: id, date: date.addingTimeInterval(3600))
        XCTAssertEqual(first.messageID, retry.messageID)
    }

    func testNonASCIIDisplayNameBecomesEncodedWords() throws {
        let email = try EmailComposer().compose(
            content(from: "Regionalny Ośrodek Polityki Społecznej w Krakowie <rops@example.org>"), id: id, date: date)
        let raw = MIMEDecoders.unfold(String(decoding: email.bytes, as: UTF8.self))
        let fromLine = try XCTUnwrap(raw.components(separatedBy: "\r\n").first { $0.hasPrefix("From: ") })
        XCTAssertTrue(fromLine.hasSuffix(" <rops@example.org>"))
        let words = MIMEDecoders.encodedWords(in: fromLine)
        let decoded = words.compactMap(MIMEDecoders.decodeWord).reduce([], +)
        XCTAssertEqual(String(decoding: decoded, as: UTF8.self), "Regionalny Ośrodek Polityki Społecznej w Krakowie")
    }

    func testDisplayNameWithSpecialsIsQuoted() throws {
        let email = try EmailComposer().compose(content(from: "ROPS, Krakow: zespol <a@example.org>"), id: id, date: date)
        let raw = String(decoding: email.bytes, as: UTF8.self)
        XCTAssertTrue(raw.contains("From: \"ROPS, Krakow: zespol\" <a@example.org>\r\n"), raw.debugDescription)
    }

    func testLineBreaksOrNULInAnyHeaderAreRefused() {
        let attempts: [(EmailContent, String)] = [
            (content(subject: "Hello\r\nBcc: victim@example.com"), "Subject"),
            (content(subject: "Hello\nBcc: victim@example.com"), "Subject"),
            (content(subject: "Hello\u{0}"), "Subject"),
            (content(from: "Evil\r\nBcc: x@example.com <a@example.org>"), "From"),
            (content(from: "Evil <a@example.org>\n"), "From"),
            (content(to: "gops@example.org\r\nRCPT TO:<x@example.com>"), "To"),
            (content(to: "gops@example.org\u{0}"), "To"),
        ]
        for (attempt, field) in attempts {
            XCTAssertThrowsError(try EmailComposer().compose(attempt, id: id, date: date)) { error in
                XCTAssertEqual(error as? MessageError, .headerInjection(field: field))
                let failure = (error as? MessageError)?.deliveryFailure
                XCTAssertEqual(failure?.kind, .permanent)
                XCTAssertEqual(failure?.code, "message.invalid")
            }
        }
    }

    func testMalformedAddressIsRefused() {
        XCTAssertThrowsError(try EmailComposer().compose(content(to: "not an address"), id: id, date: date)) { error in
            guard case .invalidAddress(field: "To", _)? = error as? MessageError else { return XCTFail("\(error)") }
        }
    }

    func testBodyIsQuotedPrintableOfTheTextWithCRLF() throws {
        let email = try EmailComposer().compose(content(text: "Linia 1\nLinia 2 — ąę\n"), id: id, date: date)
        let raw = String(decoding: email.bytes, as: UTF8.self)
        let body = try XCTUnwrap(raw.components(separatedBy: "\r\n\r\n").dropFirst().first)
        XCTAssertEqual(MIMEDecoders.decodeQuotedPrintable(body).map { String(decoding: $0, as: UTF8.self) },
                       "Linia 1\r\nLinia 2 — ąę\r\n")
    }
}
