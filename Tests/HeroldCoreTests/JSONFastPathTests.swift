import Foundation
import XCTest
@testable import HeroldCore

/// The one-pass reader and writer against Foundation's JSONDecoder and JSONEncoder: the
/// same values and the same bytes, or (reader) no answer where Foundation decides.
final class JSONFastPathTests: XCTestCase {
    private func foundation(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    private func encoded(_ value: JSONValue, escapingSlashes: Bool) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = escapingSlashes ? [.sortedKeys] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Equal as values AND byte for byte in every string (Swift's `==` on strings would let
    /// a differently normalised string pass).
    private func assertSame(_ a: JSONValue, _ b: JSONValue, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a, b, text, file: file, line: line)
        XCTAssertEqual(try encoded(a, escapingSlashes: true), try encoded(b, escapingSlashes: true), text, file: file, line: line)
    }

    func testReadsWhatFoundationReadsTheSame() throws {
        let documents = [
            #"{"specversion":"1.0","id":"a-1","source":"https://rops.example.org/x","type":"t","data":{"n":5,"year":2026}}"#,
            " \n\t{ \"a\" : [ 1 , -2 , 0 , true , false , null , \"\" , [ ] , { } ] }\r\n",
            #"["Dzień Pracownika Socjalnego","zażółć gęślą jaźń","😀"]"#,
            #""escapes \" \\ \/ \b \f \n \r \t \u0041 \u0105 \u00e9 \u20AC \u0000 end""#,
            #"{"max":9223372036854775807,"min":-9223372036854775808,"zero":0,"neg":-17}"#,
            #"[[[[["deep"]]]]]"#, "42", "true", "null", #""""#,
            #"{"nfd":"e\u0301","nfc":"\u00e9","raw":"é"}"#,
        ]
        for text in documents {
            let reference = try XCTUnwrap(foundation(text), text)
            let fast = try XCTUnwrap(JSONFastReader.read(Array(text.utf8)), "the fast reader gave up on \(text)")
            assertSame(fast, reference, text)
        }
    }

    func testLeavesToFoundationWhatItMightReadOtherwise() {
        let documents = [
            "1.5", "1e3", "1E3", "-0", "01", "9223372036854775808", "-9223372036854775809",
            #""\ud83d\ude00""#, #""\ud800""#, "\"tab\tinside\"", #"{"a":1,"a":2}"#,
            "", "   ", "{", "[1,]", #"{"a":1,}"#, "[1 2]", "tru", "nul", #""\x""#, #""\u12""#,
            "{} {}", #"{'a':1}"#, "[01]", "NaN", "+1", ".5",
        ]
        for text in documents {
            XCTAssertNil(JSONFastReader.read(Array(text.utf8)), text)
        }
    }

    func testRandomDocumentsReadAsFoundationReadsThem() throws {
        var random = SeededRandom(seed: 0x5EED)
        for round in 0..<400 {
            let value = randomValue(&random, depth: 0, doubles: false)
            let text = String(decoding: try encoded(value, escapingSlashes: round % 2 == 0), as: UTF8.self)
            let spaced = round % 3 == 0 ? spaceOut(text) : text
            let reference = try XCTUnwrap(foundation(spaced), spaced)
            let fast = try XCTUnwrap(JSONFastReader.read(Array(spaced.utf8)), "gave up on \(spaced)")
            assertSame(fast, reference, spaced)
        }
    }

    func testWritesTheBytesJSONEncoderWrites() throws {
        var random = SeededRandom(seed: 0xC0FFEE)
        var values = (0..<400).map { _ in randomValue(&random, depth: 0, doubles: true) }
        values += [
            .object(["b": .int(1), "B": .int(2), "a": .int(3), "ą": .int(4), "z": .int(5), "aa": .int(6), "": .null]),
            .string("/\u{7F}\u{1F}\u{0B}\u{2028}\u{FEFF}\"\\"),
            .array([.double(1), .double(0.1), .double(-2.5e-300), .double(1e300), .double(123456789.125)]),
        ]
        for value in values {
            for slashes in [true, false] {
                let fast = try XCTUnwrap(CanonicalJSONWriter.data(value, escapingSlashes: slashes))
                XCTAssertEqual(String(decoding: fast, as: UTF8.self),
                               String(decoding: try encoded(value, escapingSlashes: slashes), as: UTF8.self))
            }
        }
        XCTAssertEqual(JSONValue.object(["url": .string("https://a/b")]).jsonData(), Data(#"{"url":"https://a/b"}"#.utf8))
    }

    /// `text` with JSON whitespace around every structural character outside strings.
    private func spaceOut(_ text: String) -> String {
        var out = " \n", inString = false, escaped = false
        for character in text {
            if inString {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
                out.append(character)
            } else if character == "\"" {
                inString = true
                out.append(character)
            } else if "{}[],:".contains(character) {
                out += "\t\(character)\r\n "
            } else {
                out.append(character)
            }
        }
        return out
    }

    // MARK: - Random values

    private func randomValue(_ random: inout SeededRandom, depth: Int, doubles: Bool) -> JSONValue {
        let kinds = depth >= 4 ? 5 : 7
        switch random.next(below: kinds) {
        case 0: return .null
        case 1: return .bool(random.next(below: 2) == 0)
        case 2:
            let choices: [Int64] = [0, 1, -1, 42, 2026, .max, .min, Int64(random.next(below: 1_000_000)) - 500_000]
            return .int(choices[random.next(below: choices.count)])
        case 3:
            if doubles { return .double(Double(random.next(below: 2_000_001)) / 64 - 15_625) }
            return .string(randomText(&random))
        case 4: return .string(randomText(&random))
        case 5: return .array((0..<random.next(below: 5)).map { _ in randomValue(&random, depth: depth + 1, doubles: doubles) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<random.next(below: 6) {
                members[randomText(&random)] = randomValue(&random, depth: depth + 1, doubles: doubles)
            }
            return .object(members)
        }
    }

    private static let pieces = ["a", "Z", "0", " ", "/", "\\", "\"", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{00}",
                                 "\u{1F}", "\u{7F}", "ą", "ż", "Ł", "€", "😀", "e\u{301}", "\u{2028}", "{", "]", ":", ","]

    private func randomText(_ random: inout SeededRandom) -> String {
        (0..<random.next(below: 9)).map { _ in Self.pieces[random.next(below: Self.pieces.count)] }.joined()
    }
}

/// SplitMix64: the same sequence on every run, so a failure can be repeated.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
}
