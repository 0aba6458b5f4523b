import Foundation
import XCTest
@testable import HeroldCore

final class CloudEventParserTests: XCTestCase {
    private func parse(_ text: String) throws(EventError) -> [CloudEvent] {
        try CloudEventParser.parse(Data(text.utf8))
    }

    private func expectError(_ text: String, location: String, containing fragment: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try parse(text)
            XCTFail("accepted invalid event: \(text)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.location, location, file: file, line: line)
            XCTAssertTrue(error.message.contains(fragment), "\(error.message)", file: file, line: line)
        }
    }

    func testSingleEventWithPolishData() throws {
        let events = try parse("""
        {"specversion":"1.0","id":"lau-2026-1","source":"https://rops.example.org/konkursy",
         "type":"laureates.announced","time":"2026-11-23T10:00:00+01:00",
         "data":{"contest":"Przeciw przemocy","edition":"X","laureates":[{"name":"Gmina Miejska Kraków"}]}}
        """)
        XCTAssertEqual(events.count, 1)
        let e = events[0]
        XCTAssertEqual(e.key, EventKey(source: "https://rops.example.org/konkursy", id: "lau-2026-1"))
        XCTAssertEqual(e.value(at: "data.laureates.0.name"), .string("Gmina Miejska Kraków"))
        XCTAssertEqual(e.timeValue, Date(timeIntervalSince1970: 1_795_424_400))
    }

    func testBatchKeepsOrderAndDropsRepeatedKeyInsideTheBatch() throws {
        let events = try parse("""
        [{"specversion":"1.0","id":"a","source":"s","type":"t"},
         {"specversion":"1.0","id":"b","source":"s","type":"t"},
         {"specversion":"1.0","id":"a","source":"s","type":"t"}]
        """)
        XCTAssertEqual(events.map(\.id), ["a", "b"])
    }

    func testUTF8ByteOrderMarkIsAccepted() throws {
        var bytes = Data([0xEF, 0xBB, 0xBF])
        bytes.append(Data(#"{"specversion":"1.0","id":"a","source":"s","type":"t"}"#.utf8))
        XCTAssertEqual(try CloudEventParser.parse(bytes).count, 1)
    }

    private func expectEncodingError(_ bytes: [UInt8], _ expected: String,
                                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try CloudEventParser.parse(Data(bytes))
            XCTFail("accepted bytes that are not UTF-8", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, expected, file: file, line: line)
        }
    }

    func testWindows1250ByteIsRejectedWithItsOffsetLineAndAHint() {
        // "Kraków" and "Łódź" as Notepad on an old Polish Windows saves them.
        let head = Array(#"{"specversion":"1.0","id":"a","source":"s","type":"t","data":{"city":"Krak"#.utf8)
        let bytes = head + [0xF3, 0x77] + Array(#"","x":"\#n"#.utf8) + [0xA3, 0xF3, 0x64, 0x9F] + Array(#""}}"#.utf8)
        expectEncodingError(bytes, """
            file: is not UTF-8: byte 0xF3 at offset \(head.count), line 1 \
            (Windows-1250 or ISO-8859-2 "ó"? save the file as UTF-8)
            """)
        // The first bad byte on a later line, 512 bytes in.
        let padded = Array(#"{"specversion":"1.0","id":"a","source":"s","type":"t","data":{"pad":""#.utf8)
        let filler = [UInt8](repeating: 0x78, count: 512 - padded.count - 2) + Array("\n".utf8)
        let secondLine = padded + filler + [0x20, 0xB3] + Array(#""}}"#.utf8)
        expectEncodingError(secondLine, """
            file: is not UTF-8: byte 0xB3 at offset 512, line 2 \
            (Windows-1250 or ISO-8859-2 "ł"? save the file as UTF-8)
            """)
    }

    func testLatin1OverlongAndSurrogateBytesAreRejectedNotDecoded() {
        let event = #"{"specversion":"1.0","id":"a","source":"s","type":"t","data":{"n":"X"}}"#
        let offset = Array(event.utf8).firstIndex(of: UInt8(ascii: "X")) ?? 0
        func with(_ bytes: [UInt8]) -> [UInt8] {
            let parts = event.split(separator: "X", omittingEmptySubsequences: false)
            return Array(parts[0].utf8) + bytes + Array(parts[1].utf8)
        }
        expectEncodingError(with([0x63, 0x61, 0x66, 0xE9]), """
            file: is not UTF-8: byte 0xE9 at offset \(offset + 3), line 1 \
            (another encoding, such as Windows-1250? save the file as UTF-8)
            """)
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x80]] {
            XCTAssertThrowsError(try CloudEventParser.parse(Data(with(bad)))) { error in
                XCTAssertTrue("\(error)".contains("not UTF-8: byte 0x\(String(bad[0], radix: 16, uppercase: true)) at offset \(offset)"),
                              "\(error)")
            }
        }
        XCTAssertEqual(try CloudEventParser.parse(Data(with(Array("café żółć".utf8))))[0].value(at: "data.n"),
                       .string("café żółć"))
    }

    func testUTF16IsNamedAsSuch() {
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in #"{"id":"a"}"#.utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        expectEncodingError(bytes, """
            file: is not UTF-8: it starts with the byte order mark of UTF-16 little-endian (0xFF 0xFE); \
            save the file as UTF-8
            """)
    }

    func testMissingRequiredAttributeNamesIt() {
        expectError(#"{"specversion":"1.0","id":"a","type":"t"}"#, location: "event", containing: "\"source\"")
        expectError(#"{"id":"a","source":"s","type":"t"}"#, location: "event", containing: "\"specversion\"")
    }

    func testWrongSpecVersion() {
        expectError(#"{"specversion":"0.3","id":"a","source":"s","type":"t"}"#,
                    location: "event.specversion", containing: "1.0")
    }

    func testBadTimeNamesTheEventInABatch() {
        expectError("""
        [{"specversion":"1.0","id":"a","source":"s","type":"t"},
         {"specversion":"1.0","id":"b","source":"s","type":"t","time":"21.11.2026"}]
        """, location: "event[1].time", containing: "RFC 3339")
    }

    func testControlCharacterInIdIsRefused() {
        expectError(#"{"specversion":"1.0","id":"a\r\nb","source":"s","type":"t"}"#,
                    location: "event.id", containing: "control character")
    }

    func testNotJSONAndNotUTF8AndEmpty() {
        expectError("{\"specversion\": ", location: "file", containing: "not valid JSON")
        expectError("   \n", location: "file", containing: "empty")
        expectError("[]", location: "batch", containing: "empty array")
        expectError("42", location: "file", containing: "number")
        XCTAssertThrowsError(try CloudEventParser.parse(Data([0x7B, 0xFF, 0x7D])))
    }

    func testAttributeTypesAndNames() {
        expectError(#"{"specversion":"1.0","id":7,"source":"s","type":"t"}"#, location: "event.id", containing: "string")
        expectError(#"{"specversion":"1.0","id":"a","source":"s","type":"t","Bad-Name":"x"}"#,
                    location: "event.Bad-Name", containing: "attribute name")
        expectError(#"{"specversion":"1.0","id":"a","source":"s","type":"t","ext":{"a":1}}"#,
                    location: "event.ext", containing: "extension")
        expectError(#"{"specversion":"1.0","id":"a","source":"s","type":"t","data":1,"data_base64":"AA=="}"#,
                    location: "event", containing: "data_base64")
    }

    func testStructuredJSONRoundTripsTheAttributes() throws {
        let event = try parse(#"{"specversion":"1.0","id":"a","source":"s","type":"t","data":{"n":3,"x":1.5,"pl":"żółć"},"ext":"v"}"#)[0]
        let again = try CloudEventParser.parse(event.structuredJSON())[0]
        XCTAssertEqual(again, event)
        XCTAssertEqual(event.extensions, ["ext": .string("v")])
    }
}

final class RFC3339Tests: XCTestCase {
    func testOffsetsFractionsAndInvalid() {
        XCTAssertEqual(RFC3339.parseDateTime("1970-01-01T00:00:00Z"), Date(timeIntervalSince1970: 0))
        XCTAssertEqual(RFC3339.parseDateTime("1970-01-01T01:00:00+01:00"), Date(timeIntervalSince1970: 0))
        XCTAssertEqual(RFC3339.parseDateTime("2028-02-29T12:00:00.5Z")?.timeIntervalSince1970, 1_835_438_400.5)
        XCTAssertNil(RFC3339.parseDateTime("2027-02-29T12:00:00Z"))
        XCTAssertNil(RFC3339.parseDateTime("2026-11-21 08:00"))
        XCTAssertNil(RFC3339.parseDateTime("2026-11-21T08:00:00"))
        XCTAssertEqual(RFC3339.format(Date(timeIntervalSince1970: 1_795_424_400)), "2026-11-23T09:00:00Z")
        XCTAssertNotNil(RFC3339.parseDate("2028-02-29"))
        XCTAssertNil(RFC3339.parseDate("2026-02-29"))
    }
}

final class DeliveryIDTests: XCTestCase {
    func testStableAndDistinct() {
        let key = EventKey(source: "s", id: "1")
        let a = DeliveryID.derive(event: key, rule: "r", action: 0, recipient: "a@x.pl", scheduledAt: nil)
        XCTAssertEqual(a, DeliveryID.derive(event: key, rule: "r", action: 0, recipient: "a@x.pl", scheduledAt: nil))
        XCTAssertNotEqual(a, DeliveryID.derive(event: key, rule: "r", action: 1, recipient: "a@x.pl", scheduledAt: nil))
        XCTAssertNotEqual(a, DeliveryID.derive(event: key, rule: "r", action: 0, recipient: "b@x.pl", scheduledAt: nil))
        XCTAssertNotEqual(a, DeliveryID.derive(event: key, rule: "r", action: 0, recipient: "a@x.pl",
                                               scheduledAt: Date(timeIntervalSince1970: 0)))
        // Parts are length-prefixed: moving a character between fields changes the id.
        XCTAssertNotEqual(DeliveryID.derive(event: EventKey(source: "ab", id: "c"), rule: "r", action: 0, recipient: "x", scheduledAt: nil),
                          DeliveryID.derive(event: EventKey(source: "a", id: "bc"), rule: "r", action: 0, recipient: "x", scheduledAt: nil))
        XCTAssertTrue(a.rawValue.hasPrefix("hd_"))
        XCTAssertEqual(a.rawValue.count, 27)
    }
}

final class MailboxTests: XCTestCase {
    func testParsesNameAndAddress() throws {
        let m = try Mailbox.parse("Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>")
        XCTAssertEqual(m.displayName, "Powiadomienia ROPS Kraków")
        XCTAssertEqual(m.address, "powiadomienia@rops.example.org")
        XCTAssertEqual(m.domain, "rops.example.org")
        XCTAssertEqual(try Mailbox.parse("gops@example.org").address, "gops@example.org")
    }

    func testRefusesSmuggling() {
        XCTAssertThrowsError(try Mailbox.parse("a@example.org\r\nRCPT TO:<victim@example.org>"))
        XCTAssertThrowsError(try Mailbox.parse("a@example.org\nX"))
        XCTAssertThrowsError(try Mailbox.parse("a\u{0}@example.org"))
        XCTAssertThrowsError(try Mailbox.parse("<a@example.org> <b@example.org>"))
        XCTAssertThrowsError(try Mailbox.parse("a b@example.org"))
        XCTAssertThrowsError(try Mailbox.parse("ąę@example.org"))
        XCTAssertThrowsError(try Mailbox.parse("a@-example.org"))
        XCTAssertThrowsError(try Mailbox.parse("a@"))
    }
}

/// Found by fuzzing: data nested hundreds of levels deep was accepted, then stored as `null`
/// (the encoder's depth limit), and took seconds to decode.
final class NestingLimitTests: XCTestCase {
    private func event(dataDepth: Int) -> Data {
        let data = String(repeating: "[", count: dataDepth) + String(repeating: "]", count: dataDepth)
        return Data(#"{"specversion":"1.0","id":"g","source":"/s","type":"t","data":\#(data)}"#.utf8)
    }

    func testDeepNestingIsRefusedWithTheLimitAndOffset() {
        XCTAssertThrowsError(try CloudEventParser.parse(event(dataDepth: 511))) { error in
            XCTAssertTrue("\(error)".contains("deeper than 64 levels"), "\(error)")
        }
        let started = Date()
        XCTAssertThrowsError(try CloudEventParser.parse(Data((String(repeating: "[", count: 200_000)).utf8)))
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "refused in one pass, not decoded")
    }

    func testOrdinaryNestingAndBracketsInsideStringsAreFine() throws {
        XCTAssertEqual(try CloudEventParser.parse(event(dataDepth: 60)).count, 1)
        let tricky = Data(#"{"specversion":"1.0","id":"g","source":"/s","type":"t","data":{"s":"[[[[\"{{{{"}}"#.utf8)
        XCTAssertEqual(try CloudEventParser.parse(tricky).count, 1)
    }
}
