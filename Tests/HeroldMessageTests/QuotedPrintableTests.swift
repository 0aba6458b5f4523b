import HeroldMessage
import XCTest

final class QuotedPrintableTests: XCTestCase {
    func testPolishTextRoundTripsWithShortLines() throws {
        let text = """
        Szanowni Państwo,

        uprzejmie przypominamy, że termin nadsyłania zgłoszeń w konkursie „Małopolski Pracownik Socjalny Roku 2026” upływa 21 listopada 2026 r. Zgłoszenia prosimy przesyłać pocztą elektroniczną lub tradycyjną; koszt = 0 zł.
        .
        Z wyrazami szacunku,   
        Regionalny Ośrodek Polityki Społecznej w Krakowie\t
        """
        let encoded = QuotedPrintable.encode(text)
        for line in encoded.components(separatedBy: "\r\n") {
            XCTAssertLessThanOrEqual(line.utf8.count, 76, line)
            XCTAssertFalse(line.hasSuffix(" ") || line.hasSuffix("\t"), "trailing whitespace would be lost: \(line)")
            XCTAssertFalse(line.hasPrefix("."), "a dot at line start is escaped")
            XCTAssertTrue(line.utf8.allSatisfy { $0 < 0x7F }, "output is 7-bit")
        }
        XCTAssertTrue(encoded.contains("=3D"), "'=' is escaped")
        let decoded = try XCTUnwrap(MIMEDecoders.decodeQuotedPrintable(encoded))
        XCTAssertEqual(String(decoding: decoded, as: UTF8.self), LineEndings.crlf(text))
    }

    func testBareLFAndCRBecomeCRLF() throws {
        let encoded = QuotedPrintable.encode("a\nb\rc\r\nd")
        XCTAssertEqual(encoded, "a\r\nb\r\nc\r\nd")
        XCTAssertEqual(LineEndings.crlf("x\n\ny\r"), "x\r\n\r\ny\r\n")
    }

    func testLongWordWithoutSpacesGetsSoftBreaksAndRoundTrips() throws {
        let text = String(repeating: "źdźbło", count: 40)
        let encoded = QuotedPrintable.encode(text)
        XCTAssertGreaterThan(encoded.components(separatedBy: "\r\n").count, 3)
        XCTAssertTrue(encoded.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        XCTAssertEqual(MIMEDecoders.decodeQuotedPrintable(encoded).map { String(decoding: $0, as: UTF8.self) }, text)
    }

    /// Random text of Polish letters, emoji, spaces, tabs, dots, "=" and every kind of line
    /// end: it decodes back to itself (line ends as CRLF), and every encoded line keeps the
    /// rules (≤ 76, no trailing space or tab, no leading dot).
    func testRandomTextRoundTripsAndKeepsTheLineRules() throws {
        let pieces = ["ą", "ż", "Ł", "ó", "ę", "a", "Z", " ", "\t", ".", "=", "\n", "\r", "\r\n", "🙂", "€", "x", "Dzień"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let count = Int.random(in: 0...300, using: &generator)
            let text = (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let encoded = QuotedPrintable.encode(text)
            let decoded = try XCTUnwrap(MIMEDecoders.decodeQuotedPrintable(encoded), encoded)
            XCTAssertEqual(String(decoding: decoded, as: UTF8.self), LineEndings.crlf(text), encoded)
            for line in encoded.components(separatedBy: "\r\n") {
                XCTAssertLessThanOrEqual(line.utf8.count, QuotedPrintable.maxLineLength, line)
                XCTAssertFalse(line.hasSuffix(" ") || line.hasSuffix("\t"), line)
                XCTAssertFalse(line.hasPrefix("."), line)
                XCTAssertTrue(line.utf8.allSatisfy { $0 < 0x80 }, line)
            }
        }
    }
}
