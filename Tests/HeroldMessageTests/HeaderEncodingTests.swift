@testable import HeroldMessage
import XCTest

final class HeaderEncodingTests: XCTestCase {
    let longPolish = "Zaproszenie na uroczystość wręczenia nagród w konkursie „Przeciw przemocy” — Małopolski Pracownik Socjalny Roku 2026"

    private func value(of field: String, name: String) -> String {
        String(MIMEDecoders.unfold(field).dropFirst(name.count + 2).dropLast(1))  // "\r\n" is one Character
    }

    func testLongPolishSubjectSplitsIntoShortWordsThatDecodeToTheOriginal() {
        let field = HeaderEncoding.unstructuredField(name: "Subject", value: longPolish)
        let words = MIMEDecoders.encodedWords(in: field)
        XCTAssertGreaterThan(words.count, 1, "a subject this long needs several encoded words")
        for word in words {
            XCTAssertLessThanOrEqual(word.count, 75, word)
            // Each word holds whole characters, so it decodes on its own.
            XCTAssertNotNil(String(validating: MIMEDecoders.decodeWord(word) ?? [0xFF], as: UTF8.self), word)
        }
        for line in field.dropLast(1).components(separatedBy: "\r\n") {
            XCTAssertLessThanOrEqual(line.count, 78, line)
        }
        XCTAssertTrue(field.hasPrefix("Subject: =?UTF-8?"))
        XCTAssertTrue(field.hasSuffix("\r\n"))
        XCTAssertEqual(MIMEDecoders.decodeUnstructured(value(of: field, name: "Subject")), longPolish)
    }

    func testNonLatinTextUsesBase64AndNeverSplitsAGrapheme() {
        let text = String(repeating: "日本語のお知らせ 👩‍👩‍👧‍👦 ", count: 6) + "e\u{301}\u{302}"
        let field = HeaderEncoding.unstructuredField(name: "Subject", value: text)
        let words = MIMEDecoders.encodedWords(in: field)
        XCTAssertTrue(words.allSatisfy { $0.hasPrefix("=?UTF-8?B?") && $0.count <= 75 })
        let pieces = words.compactMap { MIMEDecoders.decodeWord($0) }.compactMap { String(validating: $0, as: UTF8.self) }
        XCTAssertEqual(pieces.count, words.count)
        // Concatenating per-word strings must not change the grapheme count: no cluster was cut.
        XCTAssertEqual(pieces.reduce(0) { $0 + $1.count }, text.count)
        XCTAssertEqual(MIMEDecoders.decodeUnstructured(value(of: field, name: "Subject")), text)
    }

    func testPlainASCIISubjectIsFoldedNotEncoded() {
        let text = String(repeating: "Contest deadline reminder ", count: 6) + "end"
        let field = HeaderEncoding.unstructuredField(name: "Subject", value: text)
        XCTAssertFalse(field.contains("=?"))
        XCTAssertTrue(field.dropLast(1).components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 })
        XCTAssertEqual(value(of: field, name: "Subject"), text)
    }

    func testTextThatLooksLikeAnEncodedWordIsEncoded() {
        let text = "=?UTF-8?Q?fake?="
        let field = HeaderEncoding.unstructuredField(name: "Subject", value: text)
        XCTAssertEqual(MIMEDecoders.decodeUnstructured(value(of: field, name: "Subject")), text)
    }

    /// Random text of Polish letters, CJK, emoji, combining marks and ASCII specials, with first
    /// lines of every room: the words decode back to the text, each holds whole grapheme
    /// clusters within its limit, and each is filled as far as the next cluster allows.
    /// (Clusters longer than a whole word, split between scalars, are tested above.)
    func testRandomTextBecomesFullWordsOfWholeCharacters() throws {
        let pieces = ["ą", "Ż", "ó", "a", "Z", " ", "_", "=", "?", "!", "(", "日本", "🙂", "e\u{301}", "€", "x", "Dzień"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let text = (0..<Int.random(in: 1...60, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let room = Int.random(in: 0...80, using: &generator)
            let words = HeaderEncoding.encodedWords(text, firstLineRoom: room)
            let decoded = try words.map { try XCTUnwrap(MIMEDecoders.decodeWord($0), $0) }
            let parts = try decoded.map { try XCTUnwrap(String(validating: $0, as: UTF8.self), "\($0)") }
            XCTAssertEqual(parts.joined(), text)
            XCTAssertEqual(parts.reduce(0) { $0 + $1.count }, text.count, "a grapheme cluster was cut: \(words)")
            let encoding: HeaderEncoding.Encoding = words[0].hasPrefix("=?UTF-8?B?") ? .b : .q
            for (index, word) in words.enumerated() {
                let limit = index == 0 ? max(min(room, 75), 24) : 75
                XCTAssertLessThanOrEqual(word.count, limit, word)
                guard index + 1 < words.count, let next = parts[index + 1].first else { continue }
                // Greedy: the next word's first cluster did not fit into this one.
                let grown = decoded[index] + Array(String(next).utf8)
                XCTAssertGreaterThan(HeaderEncoding.encodedLength(grown, encoding) + 12, limit, "\(word) had room for \(next)")
            }
        }
    }
}
