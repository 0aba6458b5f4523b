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
}
