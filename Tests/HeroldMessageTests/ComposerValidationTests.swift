import Foundation
import HeroldCore
@testable import HeroldMessage
import XCTest

/// `EmailComposer.validate` is what planning runs instead of composing the whole message: it
/// must refuse exactly what `compose` refuses (so a message that cannot be built is still held
/// at ingest, with the same reason), and pass everything `compose` can build.
final class ComposerValidationTests: XCTestCase {
    let id = DeliveryID(rawValue: "hd_abcdefghijklmnopqrstuvwx")
    let date = Date(timeIntervalSince1970: 1_795_248_000)
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herold-validate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("zalaczniki"), withIntermediateDirectories: true)
        try Data("%PDF-1.4 program".utf8).write(to: folder.appendingPathComponent("zalaczniki/program.pdf"))
        try Data(repeating: 0x41, count: 4096).write(to: folder.appendingPathComponent("zalaczniki/duzy.pdf"))
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("zalaczniki/link.pdf").path,
                                                   withDestinationPath: "/etc/hostname")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func attachment(_ file: String, name: String? = nil, maxBytes: Int = 1024) -> AttachmentRef {
        let root = folder.appendingPathComponent("zalaczniki")
        return AttachmentRef(name: name ?? file, path: root.appendingPathComponent(file).path, maxBytes: maxBytes,
                             root: root.path, relative: file)
    }

    func content(from: String = "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>", to: String = "gops@example.org",
                 subject: String = "Dzień Pracownika Socjalnego", replyTo: String? = nil, sender: String? = nil,
                 unsubscribe: String? = nil, attachments: [AttachmentRef] = []) -> EmailContent {
        EmailContent(from: from, to: to, subject: subject, text: "Szanowni Państwo,\nżyczenia.\n", html: "<p>Życzenia</p>",
                     attachments: attachments, replyTo: replyTo, sender: sender, listUnsubscribe: unsubscribe)
    }

    /// Contents `compose` can build, and contents it refuses for each reason it has.
    var cases: [(EmailContent, DeliveryID, buildable: Bool)] {
        let good: [EmailContent] = [
            content(),
            content(from: "\"ROPS, Kraków: zespół\" <a@example.org>", replyTo: "Sekretariat <s@example.org>",
                    sender: "nadawca@example.org", unsubscribe: "<mailto:wypisz@example.org>, <https://example.org/u>",
                    attachments: [attachment("program.pdf", name: "Program gali – wersja ostateczna.pdf")]),
            content(subject: "Temat\tz tabulatorem", attachments: [attachment("duzy.pdf", maxBytes: 4096)]),
        ]
        let bad: [EmailContent] = [
            content(subject: "Hello\r\nBcc: victim@example.com"),
            content(subject: "Dzwonek \u{7}"),
            content(from: "Evil\r\nBcc: x@example.com <a@example.org>"),
            content(from: "nie adres"),
            content(to: "gops@example.org\u{0}"),
            content(to: "gops@-example.org"),
            content(to: "ąę@example.org"),
            content(to: "\"Ktoś \"cytat\"\" <a@example.org>"),
            content(replyTo: "a@@example.org"),
            content(replyTo: "a@example.org\n"),
            content(sender: "kropka.@example.org"),
            content(sender: "Del \u{7F} <a@example.org>"),
            content(unsubscribe: "mailto:wypisz@example.org"),
            content(unsubscribe: "<https://example.org/u>\r\n"),
            content(attachments: [attachment("program.pdf", name: "zły\rplik.pdf")]),
            content(attachments: [attachment("brak.pdf")]),
            content(attachments: [attachment("duzy.pdf")]),
            content(attachments: [attachment("link.pdf")]),
            content(attachments: [attachment("program.pdf"), attachment("brak.pdf")]),
            // Two faults at once: both must name the first one compose meets.
            content(from: "nie adres", subject: "Zły\ntemat"),
            content(to: "zły adres", attachments: [attachment("brak.pdf")]),
        ]
        return good.map { ($0, id, true) } + bad.map { ($0, id, false) }
            + [(content(), DeliveryID(rawValue: "hd_bad id/../x"), false), (content(), DeliveryID(rawValue: ""), false)]
    }

    func testValidateRefusesExactlyWhatComposeRefusesWithTheSameError() {
        let composer = EmailComposer(timeZone: TimeZone(identifier: "Europe/Warsaw") ?? .current)
        for (content, id, buildable) in cases {
            let composed = Result { () throws(MessageError) -> ComposedEmail in try composer.compose(content, id: id, date: date) }
            let validated = Result { () throws(MessageError) in try composer.validate(content, id: id) }
            switch (composed, validated) {
            case (.success, .success):
                XCTAssertTrue(buildable, "expected a refusal for \(content) \(id)")
            case (.failure(let composeError), .failure(let validateError)):
                XCTAssertFalse(buildable, "\(composeError) for \(content)")
                XCTAssertEqual(validateError, composeError, "\(content)")
                XCTAssertEqual(validateError.deliveryFailure.kind, .permanent)
            default:
                XCTFail("compose gave \(composed), validate gave \(validated), for \(content) \(id)")
            }
        }
    }
}
