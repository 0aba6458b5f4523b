import Foundation
import XCTest
@testable import HeroldCore

final class UTF8ValidatorTests: XCTestCase {
    private func problem(_ bytes: [UInt8]) -> UTF8Validator.Problem? {
        UTF8Validator.firstProblem(in: bytes)
    }

    func testAcceptsPolishTextAndEveryPlaneUpToTheLastScalar() {
        XCTAssertNil(problem(Array("Zażółć gęślą jaźń — „cudzysłów” €".utf8)))
        XCTAssertNil(problem([]))
        XCTAssertNil(problem([0xF0, 0x9F, 0x98, 0x80]))          // U+1F600
        XCTAssertNil(problem([0xF4, 0x8F, 0xBF, 0xBF]))          // U+10FFFF, the last
        XCTAssertNil(problem([0xED, 0x9F, 0xBF]))                // U+D7FF, just below the surrogates
        XCTAssertNil(problem([0xEE, 0x80, 0x80]))                // U+E000, just above
        XCTAssertNil(problem([0xEF, 0xBB, 0xBF, 0x7B, 0x7D]))    // a BOM is well-formed UTF-8
    }

    func testRefusesOverlongForms() {
        XCTAssertEqual(problem([0x41, 0xC0, 0xAF])?.offset, 1)   // "/" in two bytes
        XCTAssertEqual(problem([0xC1, 0xBF])?.byte, 0xC1)
        XCTAssertEqual(problem([0xE0, 0x80, 0xAF])?.offset, 0)   // "/" in three bytes
        XCTAssertEqual(problem([0xE0, 0x9F, 0xBF])?.offset, 0)   // U+07FF in three bytes
        XCTAssertEqual(problem([0xF0, 0x8F, 0xBF, 0xBF])?.offset, 0)  // U+FFFF in four bytes
    }

    func testRefusesSurrogatesAndScalarsAboveTheLast() {
        XCTAssertEqual(problem([0x61, 0xED, 0xA0, 0x80])?.offset, 1)  // U+D800
        XCTAssertEqual(problem([0xED, 0xBF, 0xBF])?.byte, 0xED)       // U+DFFF
        XCTAssertEqual(problem([0xF4, 0x90, 0x80, 0x80])?.byte, 0xF4) // U+110000
        XCTAssertEqual(problem([0xF5, 0x80, 0x80, 0x80])?.byte, 0xF5)
        XCTAssertEqual(problem([0xFF])?.byte, 0xFF)
    }

    func testRefusesTruncatedSequencesAndLoneContinuationBytes() {
        XCTAssertEqual(problem([0x7B, 0xC5])?.offset, 1)               // "ł" cut at the end
        XCTAssertEqual(problem([0xE2, 0x80])?.offset, 0)               // "—" cut
        XCTAssertEqual(problem([0xF0, 0x9F, 0x98, 0x41])?.offset, 0)   // ends too early
        XCTAssertEqual(problem([0x61, 0x80, 0x62])?.byte, 0x80)
        let latin2 = problem(Array("{\"a\":\n\"".utf8) + [0xB3, 0x22])
        XCTAssertEqual(latin2, UTF8Validator.Problem(offset: 7, byte: 0xB3, line: 2))
    }

    func testHintsNameTheLegacyEncodingsOfPolishLetters() {
        let hints: [(UInt8, String)] = [
            (0xB3, "Windows-1250 or ISO-8859-2 \"ł\"?"), (0xB9, "Windows-1250 \"ą\"?"),
            (0xB1, "ISO-8859-2 \"ą\"?"), (0x9C, "Windows-1250 \"ś\"?"),
            (0xE9, "another encoding, such as Windows-1250?"),
        ]
        for (byte, hint) in hints {
            XCTAssertEqual(EncodingHint.guess(byte), hint, EncodingHint.hex(byte))
        }
        XCTAssertEqual(EncodingHint.hex(0x0A), "0x0A")
    }
}
