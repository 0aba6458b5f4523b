import Foundation
import HeroldConfig
import HeroldCore
@testable import HeroldRules
import XCTest

/// Renders the shipped examples (Config/templates, Config/events) through the rules that
/// Config/herold.yaml declares, and reads the Polish text a recipient would get.
final class ExampleConfigTests: XCTestCase {
    static func type(_ t: String) -> [MatchCondition] { [MatchCondition(path: "type", test: .oneOf([t]))] }

    static let rules = [
        Rule(name: "oglos-laureatow", match: type("laureates.announced"), send: [
            .email(to: ["partners"], template: "laureaci"), .webhook(endpoint: "partnerzy-hub", template: nil),
        ]),
        Rule(name: "przypomnienie-o-terminie", match: type("contest.deadline"),
             remind: Remind(field: "data.deadline", beforeDays: [14, 7, 1], atMinutes: 9 * 60),
             send: [.email(to: ["institutions"], template: "termin-konkursu")]),
        Rule(name: "zaproszenie-na-uroczystosc", match: type("ceremony.scheduled"), send: [
            .email(to: ["partners", "institutions"], template: "uroczystosc"),
        ]),
        Rule(name: "dzien-pracownika-socjalnego", match: type("day.social-worker"), send: [
            .email(to: ["institutions"], template: "zyczenia"),
        ]),
    ]

    let now = Fixtures.date("2026-11-23T12:00:00+01:00")
    let templatesDirectory = Fixtures.repo.appendingPathComponent("Config/templates")
    let eventsDirectory = Fixtures.repo.appendingPathComponent("Config/events")

    func engine() throws -> RuleEngine {
        try RuleEngine(config: Fixtures.config(rules: Self.rules, templatesDirectory: templatesDirectory))
    }

    func events() throws -> [String: CloudEvent] {
        var out: [String: CloudEvent] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: eventsDirectory.path) where name.hasSuffix(".json") {
            let events = try CloudEventParser.parse(try Data(contentsOf: eventsDirectory.appendingPathComponent(name)))
            XCTAssertEqual(events.count, 1, name)
            out[name] = events.first
        }
        return out
    }

    func emails(_ plan: [Delivery]) -> [EmailContent] {
        plan.compactMap { if case .email(let m)? = $0.payload { return m } else { return nil } }
    }

    /// Nothing a reader would take for a hole: no tags left, no blank where a value should be.
    func assertClean(_ text: String, _ where_: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(text.contains("{{") || text.contains("}}"), "tag left in \(where_)", file: file, line: line)
        XCTAssertFalse(text.contains("\n\n\n"), "run of empty lines in \(where_)", file: file, line: line)
        XCTAssertFalse(text.contains("„”") || text.contains("()") || text.contains(" ,") || text.contains(" .") || text.contains(".."),
                       "empty value in \(where_)", file: file, line: line)
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) where l != "-- " {
            XCTAssertFalse(l.hasSuffix(" ") || l.contains("  "), "stray space (missing value?) in \(where_): \"\(l)\"", file: file, line: line)
        }
        XCTAssertFalse(text.contains("&amp;") || text.contains("&#"), "HTML escaping in \(where_)", file: file, line: line)
    }

    func testEveryEventPlansOnlyReadyDeliveriesAndUsesEveryTemplate() throws {
        let engine = try engine()
        let events = try events()
        XCTAssertEqual(Set(events.keys), ["laureaci-przeciw-przemocy.json", "termin-pracownik-roku.json",
                                          "uroczystosc-gala.json", "dzien-pracownika-socjalnego.json"])
        var usedRules: Set<String> = []
        for (name, event) in events {
            let plan = engine.plan(event: event, now: now)
            XCTAssertFalse(plan.isEmpty, name)
            for delivery in plan {
                XCTAssertEqual(delivery.state, .pending, "\(name): \(delivery.reason ?? "")")
                XCTAssertGreaterThanOrEqual(delivery.notBefore, now)
                usedRules.insert(delivery.rule)
            }
            for mail in emails(plan) {
                assertClean(mail.subject, "\(name) subject")
                assertClean(mail.text, "\(name) text")
            }
        }
        XCTAssertEqual(usedRules, Set(Self.rules.map(\.name)))
        let shipped = try FileManager.default.contentsOfDirectory(atPath: templatesDirectory.path).filter { !$0.hasSuffix(".md") }
        XCTAssertEqual(Set(shipped), Set(engine.templates.emails.keys).union(engine.templates.webhookBodies.keys),
                       "every shipped template is used by a rule")
        // Unique event ids, as the spool requires.
        XCTAssertEqual(Set(events.values.map(\.key)).count, events.count)
    }

    func testLaureatesMail() throws {
        let plan = try engine().plan(event: try XCTUnwrap(events()["laureaci-przeciw-przemocy.json"]), now: now)
        XCTAssertEqual(plan.map(\.recipient), ["rops@example.org", "kwp@example.org", "partnerzy-hub"])
        let mail = try XCTUnwrap(emails(plan).first)
        XCTAssertEqual(mail.subject, "Laureaci IX edycji konkursu „Przeciw przemocy”")
        for expected in [
            "Nagroda dla najlepszej gminy:\nGmina Miejska Kraków / Miejski Ośrodek Pomocy Społecznej w Krakowie\nUzasadnienie: za szerokie spektrum",
            "Nagroda dla najlepszego powiatu:\nPowiat Limanowski / Powiatowe Centrum Pomocy Rodzinie w Limanowej",
            "Wyróżnienie dla powiatu:\nPowiat chrzanowski / Powiatowy Ośrodek Interwencji Kryzysowej w Chrzanowie",
            "Wyróżnienie dla gminy:\nGmina Rzezawa / Gminny Ośrodek Pomocy Społecznej w Rzezawie",
            "narażonych na przemoc w rodzinie.\n",
            "Uroczyste wręczenie nagród:\nTermin: czwartek, 10 grudnia 2026 r., 10:00\nMiejsce: Międzynarodowe Centrum Kultury w Krakowie, Rynek Główny 25\n",
            "Regionalny Ośrodek Polityki Społecznej w Krakowie wraz z Komendą Wojewódzką Policji w Krakowie",
        ] {
            XCTAssertTrue(mail.text.contains(expected), "missing: \(expected)\n---\n\(mail.text)")
        }
        guard case .webhook(let hook)? = plan.last?.payload else { return XCTFail("no webhook") }
        XCTAssertEqual(hook.contentType, "application/cloudevents+json")
    }

    func testDeadlineReminders() throws {
        let plan = try engine().plan(event: try XCTUnwrap(events()["termin-pracownik-roku.json"]), now: now)
        XCTAssertEqual(plan.count, 6) // 3 reminders × 2 institutions
        XCTAssertEqual(Set(plan.map(\.notBefore)), [Fixtures.date("2026-12-01T09:00:00+01:00"),
                                                    Fixtures.date("2026-12-08T09:00:00+01:00"),
                                                    Fixtures.date("2026-12-14T09:00:00+01:00")])
        let mails = emails(plan)
        let week = try XCTUnwrap(mails.first { $0.subject.contains("za 7 dni") })
        XCTAssertEqual(week.subject, "Przypomnienie: nabór w konkursie „Małopolski Pracownik Socjalny Roku” kończy się 15 grudnia 2026 r. (za 7 dni)")
        XCTAssertTrue(week.text.contains("przypominamy, że nabór w konkursie „Małopolski Pracownik Socjalny Roku – Mamy moc pomagania” kończy się 15 grudnia 2026 r. — za 7 dni."), week.text)
        XCTAssertTrue(week.text.contains("https://rops.example.org/konkursy/pracownik-socjalny-roku-2026"))
        XCTAssertTrue(mails.contains { $0.subject.hasSuffix("(za 14 dni)") })
        XCTAssertTrue(mails.contains { $0.text.contains("kończy się 15 grudnia 2026 r. — jutro.") })
    }

    func testCeremonyInvitation() throws {
        let plan = try engine().plan(event: try XCTUnwrap(events()["uroczystosc-gala.json"]), now: now)
        XCTAssertEqual(plan.map(\.recipient), ["rops@example.org", "kwp@example.org", "gops@example.org", "pcpr@example.org"])
        let mail = try XCTUnwrap(emails(plan).first)
        XCTAssertTrue(mail.subject.hasPrefix("Zaproszenie: Konferencja wojewódzka „Wspólne działanie – wzajemne korzyści."))
        XCTAssertTrue(mail.subject.hasSuffix("– 10 grudnia 2026 r."))
        for expected in [
            "Termin: czwartek, 10 grudnia 2026 r., 10:00\nMiejsce: Międzynarodowe Centrum Kultury w Krakowie, Rynek Główny 25, 31-008 Kraków\n",
            "Program:\n9:30 – Rejestracja uczestników\n10:00 – Otwarcie konferencji\n",
            "Prosimy o potwierdzenie udziału do 3 grudnia 2026 r.\nFormularz zgłoszenia: https://rops.example.org/wydarzenia/konferencja-2026/zgloszenie\n\nSerdecznie zapraszamy.",
        ] {
            XCTAssertTrue(mail.text.contains(expected), "missing: \(expected)\n---\n\(mail.text)")
        }
    }

    func testSocialWorkerDayGreetings() throws {
        let plan = try engine().plan(event: try XCTUnwrap(events()["dzien-pracownika-socjalnego.json"]), now: now)
        XCTAssertEqual(plan.map(\.recipient), ["gops@example.org", "pcpr@example.org"])
        let mail = try XCTUnwrap(emails(plan).first)
        XCTAssertEqual(mail.subject, "Życzenia z okazji Dnia Pracownika Socjalnego 2026")
        XCTAssertTrue(mail.text.hasPrefix("Szanowni Państwo!\n\n21 listopada obchodzimy Dzień Pracownika Socjalnego."))
        XCTAssertTrue(mail.text.contains("Kraków, 21 listopada 2026 r."))
    }

    func testEveryTemplateWithEveryEventNeverLeavesTagsOrCrashes() throws {
        let engine = try engine()
        for (name, event) in try events() {
            for (templateName, email) in engine.templates.emails {
                let context = TemplateContext(event: event, rule: "x", recipient: ["address": "gops@example.org"],
                                              reminder: ReminderTime(daysLeft: 7, sendAt: now),
                                              reminderField: event.value(at: "data.deadline"), timeZone: Fixtures.warsaw)
                do {
                    let rendered = try RuleEngine.renderEmail(email, context: context)
                    XCTAssertFalse(rendered.subject.contains("{{") || rendered.text.contains("{{"), "\(templateName) × \(name)")
                } catch {
                    // A mismatched event may be refused, but only with a reason naming the template.
                    XCTAssertTrue(error.template.hasPrefix(templateName + "/"), "\(templateName) × \(name): \(error)")
                }
            }
        }
    }
}
