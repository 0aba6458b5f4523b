import Foundation
import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

/// The shipped Config/herold.yaml itself (not a copy of its rules): every example event plans
/// ready messages, HTML where a template has one, the programme PDF, personal salutations.
final class ExampleConfigMessagesTests: XCTestCase {
    let now = Fixtures.date("2026-11-23T12:00:00+01:00")
    let config = Fixtures.repo.appendingPathComponent("Config")

    func plans() throws -> [String: [Delivery]] {
        let loaded = try ConfigLoader.load(path: config.appendingPathComponent("herold.yaml").path, environment: [:])
        let engine = try RuleEngine(config: loaded)
        var out: [String: [Delivery]] = [:]
        let events = config.appendingPathComponent("events")
        for name in try FileManager.default.contentsOfDirectory(atPath: events.path) where name.hasSuffix(".json") {
            for event in try CloudEventParser.parse(try Data(contentsOf: events.appendingPathComponent(name))) {
                out[name, default: []] += engine.plan(event: event, now: now)
            }
        }
        return out
    }

    func emails(_ plan: [Delivery]?) -> [EmailContent] {
        (plan ?? []).compactMap { if case .email(let m)? = $0.payload { return m } else { return nil } }
    }

    func testEveryExampleMessageIsReadyAndClean() throws {
        let plans = try plans()
        XCTAssertEqual(plans.count, 4)
        for (name, plan) in plans {
            for delivery in plan {
                XCTAssertEqual(delivery.state, .pending, "\(name): \(delivery.reason ?? "")")
            }
            for mail in emails(plan) {
                for text in [mail.subject, mail.text, mail.html ?? ""] {
                    XCTAssertFalse(text.contains("{{") || text.contains("}}"), "\(name): tag left")
                    XCTAssertFalse(text.contains("\n\n\n"), "\(name): run of empty lines")
                }
                XCTAssertEqual(mail.replyTo, "Sekretariat ROPS <sekretariat@rops.example.org>")
            }
        }
    }

    func testCeremonyHasHTMLAndTheProgrammePDF() throws {
        let mails = emails(try plans()["uroczystosc-gala.json"])
        XCTAssertEqual(mails.count, 6)
        let pdf = config.appendingPathComponent("zalaczniki/program-gali.pdf").resolvingSymlinksInPath().path
        for mail in mails {
            XCTAssertEqual(mail.attachments.map(\.name), ["program-gali.pdf"])
            XCTAssertEqual(mail.attachments.first?.path, pdf)
            XCTAssertTrue(mail.text.contains("W załączeniu: program-gali.pdf.\n\nSerdecznie zapraszamy."), mail.text)
            let html = try XCTUnwrap(mail.html)
            XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
            XCTAssertTrue(html.contains("<strong>czwartek, 10 grudnia 2026 r., 10:00</strong>"), html)
            XCTAssertTrue(html.contains("<td>Rejestracja uczestników</td>"), html)
            XCTAssertTrue(html.contains("<p>W załączeniu: program-gali.pdf.</p>"), html)
            XCTAssertTrue(html.contains("href=\"https://rops.example.org/wydarzenia/konferencja-2026/zgloszenie\""), html)
        }
        let director = try XCTUnwrap(mails.first { $0.to.contains("sekretariat@rops.example.org") })
        XCTAssertTrue(director.text.hasPrefix("Szanowna Pani Dyrektor,\n"))
        XCTAssertTrue(try XCTUnwrap(director.html).contains("<p>Szanowna Pani Dyrektor,</p>"))
        let others = mails.filter { !$0.to.contains("sekretariat@rops.example.org") }
        XCTAssertTrue(others.allSatisfy { $0.text.hasPrefix("Szanowni Państwo,\n") })
    }

    func testGreetingsCarryListUnsubscribeAndSalutation() throws {
        let mails = emails(try plans()["dzien-pracownika-socjalnego.json"])
        XCTAssertEqual(mails.count, 6)
        XCTAssertTrue(mails.allSatisfy { $0.listUnsubscribe == "<mailto:sekretariat@rops.example.org?subject=wypisz>" })
        XCTAssertTrue(mails.allSatisfy { $0.html == nil && $0.attachments.isEmpty })
        XCTAssertEqual(mails.filter { $0.text.hasPrefix("Szanowna Pani Dyrektor!\n") }.count, 1)
        XCTAssertEqual(mails.filter { $0.text.hasPrefix("Szanowni Państwo!\n") }.count, 5)
    }
}
