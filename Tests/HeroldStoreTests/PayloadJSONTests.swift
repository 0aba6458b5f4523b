import Foundation
import HeroldCore
import XCTest
@testable import HeroldStore

/// The journal's payload column is written without `Encodable`: it must stay the bytes
/// `JSONEncoder` wrote (journals written before keep reading the same), and cover every field.
final class PayloadJSONTests: XCTestCase {
    private func encoderJSON(_ payload: DeliveryPayload) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(payload), as: UTF8.self)
    }

    private let full = EmailContent(
        from: "Powiadomienia ROPS <powiadomienia@rops.example.org>", to: "łucja.żak@gops.example.org",
        subject: "Zaproszenie: \"Dzień Pracownika Socjalnego\" / 2026",
        text: "Szanowni Państwo,\r\n\tzapraszamy…\u{0}\u{1F}\\ 😀", html: "<p>Zapraszamy</p>\n<a href=\"https://a/b\">x</a>",
        attachments: [AttachmentRef(name: "program dnia.pdf", path: "/srv/załączniki/program.pdf", maxBytes: 5 << 20,
                                    root: "/srv/załączniki", relative: "program.pdf"),
                      AttachmentRef(name: "stary.pdf", path: "/srv/stary.pdf")],
        replyTo: "sekretariat@rops.example.org", sender: "bot@rops.example.org",
        listUnsubscribe: "<mailto:wypisz@rops.example.org>, <https://rops.example.org/u?x=1&y=2>")

    func testTheSameBytesAsJSONEncoder() throws {
        let payloads: [DeliveryPayload] = [
            .email(full),
            .email(EmailContent(from: "a@b.example", to: "c@d.example", subject: "", text: "")),
            .webhook(WebhookContent(endpoint: "hub", contentType: "application/cloudevents+json",
                                    body: Data(#"{"id":"x/1","data":{"program":"Dzień"}}"#.utf8))),
            .webhook(WebhookContent(endpoint: "bin/ary", contentType: "application/octet-stream", body: Data([0, 255, 62, 63, 1]))),
            .webhook(WebhookContent(endpoint: "empty", contentType: "text/plain", body: Data())),
        ]
        for payload in payloads {
            let written = try XCTUnwrap(try Journal.payloadJSON(payload))
            XCTAssertEqual(written, try encoderJSON(payload))
            XCTAssertEqual(try JSONDecoder().decode(DeliveryPayload.self, from: Data(written.utf8)), payload)
        }
        XCTAssertNil(try Journal.payloadJSON(nil))
    }

    /// Rows are read by position: `DeliveryColumn` names the place of each of
    /// `deliveryColumns` in the SQL's list (a reordered list fails here, not in a claim).
    func testDeliveryColumnPositionsMatchTheSelectedColumns() {
        let names = Journal.deliveryColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        typealias C = Journal.DeliveryColumn
        let positions = ["id": C.id, "event_source": C.eventSource, "event_id": C.eventID, "rule": C.rule,
                         "action": C.action, "channel": C.channel, "recipient": C.recipient, "not_before": C.notBefore,
                         "state": C.state, "payload": C.payload, "reason": C.reason, "attempts": C.attempts,
                         "expires_at": C.expiresAt]
        XCTAssertEqual(names.count, C.end)
        XCTAssertEqual(Set(names), Set(positions.keys))
        for (name, position) in positions { XCTAssertEqual(names.indices.contains(position) ? names[position] : nil, name) }
    }

    /// Every stored property of the payload types is in the journal's value (a new field
    /// that `journalValue` does not write fails here).
    func testEveryFieldIsWritten() throws {
        func keys(_ value: JSONValue) -> Set<String> {
            guard case .object(let members) = value else { return [] }
            return Set(members.keys)
        }
        func labels(_ value: Any) -> Set<String> { Set(Mirror(reflecting: value).children.compactMap(\.label)) }
        XCTAssertEqual(keys(full.journalValue), labels(full))
        XCTAssertEqual(keys(full.attachments[0].journalValue), labels(full.attachments[0]))
        let hook = WebhookContent(endpoint: "hub", contentType: "text/plain", body: Data("x".utf8))
        XCTAssertEqual(keys(hook.journalValue), labels(hook))
    }

    /// Rows are read back in one pass over their bytes, giving what `JSONDecoder` gives: for
    /// what herold writes, and for shapes it does not write (left to `JSONDecoder`, errors included).
    func testReadingARowGivesWhatJSONDecoderGives() throws {
        var generator = SystemRandomNumberGenerator()
        func text(_ n: Int) -> String {
            let pool = Array("aąbcćeęlłnńoósśzźż AZ\"\\/\n\r\t\u{0}\u{1F}😀<>&")
            return String((0..<n).map { _ in pool.randomElement(using: &generator)! })
        }
        func maybe(_ n: Int) -> String? { Bool.random(using: &generator) ? text(n) : nil }
        for _ in 0..<300 {
            let payload: DeliveryPayload
            if Bool.random(using: &generator) {
                let attachments = (0..<Int.random(in: 0...2, using: &generator)).map { _ in
                    AttachmentRef(name: text(8), path: "/" + text(12), maxBytes: Int.random(in: 0...(1 << 40), using: &generator),
                                  root: maybe(5), relative: maybe(5))
                }
                payload = .email(EmailContent(from: text(10), to: text(10), subject: text(20), text: text(200), html: maybe(50),
                                              attachments: attachments, replyTo: maybe(9), sender: maybe(9), listUnsubscribe: maybe(9)))
            } else {
                let body = Data((0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
                payload = .webhook(WebhookContent(endpoint: text(6), contentType: text(12), body: body))
            }
            let written = try XCTUnwrap(try Journal.payloadJSON(payload))
            let onePass = JSONFastReader.read(Array(written.utf8)).flatMap(DeliveryPayload.init(journalValue:))
            XCTAssertEqual(onePass, payload, "what herold writes is read in one pass, without JSONDecoder: \(written)")
            XCTAssertEqual(try DeliveryPayload(journalJSON: written), payload)
        }
        // Shapes herold does not write: the same value as JSONDecoder, or an error as it gives one.
        let others = [
            #"{"webhook":{"_0":{"endpoint":"hub","contentType":"text/plain","body":"eA=="}}}"#,
            #"{"email":{"_0":{"from":"a@b.example","to":"c@d.example","subject":"s","text":"t","html":null}}}"#,
            #"{"email":{"_0":{"from":"a@b.example","to":"c@d.example","subject":"s","text":"t","future":1}}}"#,
            #"{"email":{"_0":{"from":"a@b.example","to":"c@d.example","subject":"s","text":"t","attachments":[{"name":"n","path":"/p","maxBytes":1.5e3}]}}}"#,
            #"{"email":{"_0":{"from":"a@b.example","to":"c@d.example","subject":"s"}}}"#,
            #"{"webhook":{"_0":{"endpoint":"hub","contentType":"text/plain","body":"not base64!"}}}"#,
            #"{"fax":{"_0":{}}}"#,
        ]
        for json in others {
            let reference = Result { try JSONDecoder().decode(DeliveryPayload.self, from: Data(json.utf8)) }
            let read = Result { try DeliveryPayload(journalJSON: json) }
            switch (reference, read) {
            case (.success(let a), .success(let b)): XCTAssertEqual(a, b, json)
            case (.failure, .failure): break
            default: XCTFail("\(json): JSONDecoder gave \(reference), the journal's reader \(read)")
            }
        }
    }
}
