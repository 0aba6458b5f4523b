import Foundation
import HeroldConfig
import XCTest

final class ConfigLoaderTests: XCTestCase {
    static let file = "/srv/herold/herold.yaml"

    /// The smallest config that loads: email goes to a folder.
    static let base = """
        smtp:
          outbox: ./outbox
          from: "Powiadomienia <powiadomienia@example.org>"

        """

    func load(_ yaml: String, environment: [String: String] = [:]) throws(ConfigErrors) -> HeroldConfig {
        try ConfigLoader.load(text: yaml, file: Self.file, environment: environment)
    }

    /// The issues a config gives; fails the test if it loads.
    func issues(_ yaml: String, environment: [String: String] = [:],
                file: StaticString = #filePath, line: UInt = #line) -> [ConfigIssue] {
        do {
            _ = try load(yaml, environment: environment)
            XCTFail("expected the config to be refused", file: file, line: line)
            return []
        } catch {
            return error.issues
        }
    }

    func single(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigIssue? {
        let found = issues(yaml, file: file, line: line)
        XCTAssertEqual(found.count, 1, "\(found)", file: file, line: line)
        return found.first
    }

    // MARK: The example

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func testExampleConfigLoadsWithWorkingSecret() throws {
        let path = Self.repository.appendingPathComponent("Config/herold.yaml").path
        let config: HeroldConfig
        do {
            config = try ConfigLoader.load(path: path, environment: [:])
        } catch {
            return XCTFail("example config refused:\n\(error)")
        }
        let folder = Self.repository.appendingPathComponent("Config").standardizedFileURL
        XCTAssertEqual(config.spool, folder.appendingPathComponent("spool"))
        XCTAssertEqual(config.state, folder.appendingPathComponent("state"))
        XCTAssertEqual(config.templatesDirectory.standardizedFileURL.path, folder.appendingPathComponent("templates").path)
        XCTAssertEqual(config.timezone.identifier, "Europe/Warsaw")
        XCTAssertEqual(config.smtp?.outbox, folder.appendingPathComponent("outbox/poczta"))
        XCTAssertEqual(config.smtp?.from.address, "powiadomienia@rops.example.org")
        XCTAssertEqual(config.smtp?.from.displayName, "Powiadomienia ROPS Kraków")
        XCTAssertEqual(config.webhooks["partnerzy-hub"]?.allowPrivate, true)
        XCTAssertEqual(config.webhooks["partnerzy-hub"]?.outbox, folder.appendingPathComponent("outbox/webhooki"))
        XCTAssertEqual(config.rules.map(\.name), ["oglos-laureatow", "przypomnienie-o-terminie",
                                                  "zaproszenie-na-uroczystosc", "imienne-zaproszenia",
                                                  "dzien-pracownika-socjalnego"])
        XCTAssertEqual(config.rules[3].recipientLimits[0], EventRecipientLimits(
            maxRecipients: 20, allowedDomains: ["rops.example.org", "mops-krakow.example.org", "kwp-krakow.example.org"]))
        XCTAssertEqual(config.rules[0].send, [.email(to: ["partners"], template: "laureaci"),
                                              .webhook(endpoint: "partnerzy-hub", template: nil)])
        XCTAssertEqual(config.rules[1].remind, Remind(field: "data.deadline", beforeDays: [14, 7, 1], atMinutes: 9 * 60))
        XCTAssertEqual(Set(config.templateReferences.map(\.name)), ["laureaci", "termin-konkursu", "uroczystosc", "zyczenia"])
        XCTAssertEqual(config.recipients["partners"]?.count, 3)
        XCTAssertEqual(config.recipients["institutions"]?.count, 3)
        XCTAssertEqual(config.calendar, [CalendarEntry(name: "Dzień Pracownika Socjalnego", month: 11, day: 21,
                                                       atMinutes: 8 * 60, type: "day.social-worker")])
        XCTAssertEqual(ConfigLoader.checkFiles(config), [], "the demo secret must be a valid whsec_ secret")
    }

    func testSpecExampleLoads() throws {
        let config = try load("""
            timezone: Europe/Warsaw
            spool: ./spool
            state: ./state
            smtp:
              url: smtp://127.0.0.1:2525
              tls: none
              from: "Powiadomienia ROPS <powiadomienia@example.org>"
            webhooks:
              partners-hub:
                url: http://127.0.0.1:8080/hook
                secret_file: secrets/partners-hub.whsec
                allow_private: true
            recipients:
              partners: [rops@example.org, kwp@example.org]
              institutions: [gops@example.org, pcpr@example.org]
            rules:
              - name: announce-laureates
                match: { type: laureates.announced }
                send:
                  - email: { to: [partners], template: laureates }
                  - webhook: { endpoint: partners-hub }
              - name: contest-reminders
                match: { type: contest.deadline }
                remind: { field: data.deadline, before: [14d, 7d, 1d], at: "09:00" }
                send:
                  - email: { to: [institutions], template: contest-reminder }
            calendar:
              - name: Dzień Pracownika Socjalnego
                date: "11-21"
                at: "08:00"
                type: day.social-worker
            """)
        XCTAssertEqual(config.smtp?.url, "smtp://127.0.0.1:2525")
        XCTAssertEqual(config.smtp?.tls, SMTPConfig.TLSMode.none)
        XCTAssertEqual(config.rules.count, 2)
        XCTAssertEqual(config.rules[1].line, 22)
        XCTAssertEqual(config.templateReferences.map(\.line), [20, 26])
        XCTAssertEqual(config.templateReferences.map(\.kind), [.email, .email])
        XCTAssertEqual(config.lines["webhooks.partners-hub.secret_file"], 11)
    }

    func testDefaults() throws {
        let config = try load("")
        XCTAssertEqual(config.spool.path, "/var/spool/herold")
        XCTAssertEqual(config.state.path, "/var/lib/herold")
        XCTAssertEqual(config.timezone.identifier, "Europe/Warsaw")
        XCTAssertEqual(config.maxEventBytes, 1 << 20)
        XCTAssertNil(config.smtp)
        XCTAssertEqual(config.templatesDirectory.path, "/srv/herold/templates")
    }

    func testMatchForms() throws {
        let config = try load(Self.base + """
            rules:
              - name: r
                match:
                  type: [contest.deadline, contest.extended]
                  data.edition: 9
                  subject: { present: false }
                send:
                  - email: { to: [jan@example.org], template: t }
            """)
        XCTAssertEqual(config.rules[0].match, [
            MatchCondition(path: "type", test: .oneOf(["contest.deadline", "contest.extended"])),
            MatchCondition(path: "data.edition", test: .oneOf(["9"])),
            MatchCondition(path: "subject", test: .present(false)),
        ])
        XCTAssertEqual(config.rules[0].send, [.email(to: ["jan@example.org"], template: "t")])
    }

    // MARK: Error classes, each at its line

    func testUnknownKeySuggestsClosest() {
        let found = issues(Self.base + """
            webhooks:
              hub:
                url: https://hooks.example.org/x
                secret_fiel: secrets/hub.whsec
            """)
        XCTAssertEqual(found.count, 2, "\(found)")
        XCTAssertEqual(found.map(\.line), [5, 7])
        XCTAssertTrue(found[0].message.contains("missing required key \"secret_file\""), found[0].message)
        XCTAssertTrue(found[1].message.contains("unknown key \"secret_fiel\""), found[1].message)
        XCTAssertEqual(found[1].column, 5)
        XCTAssertEqual(found[1].fix, "did you mean 'secret_file'? (or remove it)")
    }

    func testUnknownTopLevelKey() {
        let issue = single("timezon: Europe/Warsaw\n")
        XCTAssertEqual(issue?.line, 1)
        XCTAssertTrue(issue?.fix?.contains("'timezone'") == true, "\(String(describing: issue))")
    }

    func testWrongTypes() {
        let found = issues(Self.base + """
            limits: { max_event_bytes: lots }
            webhooks:
              hub:
                url: https://hooks.example.org/x
                secret_file: hub.whsec
                allow_private: "tak"
            rules: { name: x }
            """)
        XCTAssertEqual(found.map(\.line), [4, 9, 10], "\(found)")
        XCTAssertTrue(found[0].message.hasPrefix("limits.max_event_bytes: expected a whole number"), found[0].message)
        XCTAssertTrue(found[1].message.hasPrefix("webhooks.hub.allow_private: expected true or false"), found[1].message)
        XCTAssertTrue(found[2].message.hasPrefix("rules: expected a list"), found[2].message)
    }

    func testMissingRequiredKeys() {
        let found = issues("""
            smtp:
              url: smtp://127.0.0.1:25
            rules:
              - match: { type: a }
                send:
                  - webhook: { template: x }
            """)
        XCTAssertEqual(found.map(\.line), [1, 4, 6], "\(found)")
        XCTAssertEqual(found[0].message, "smtp: missing required key \"from\"")
        XCTAssertEqual(found[1].message, "rules[0]: missing required key \"name\"")
        XCTAssertEqual(found[2].message, "rules[0].send[0].webhook: missing required key \"endpoint\"")
    }

    func testDuplicateRuleNames() {
        let issue = single(Self.base + """
            rules:
              - name: same
                match: { type: a }
                send: [ { email: { to: [a@example.org], template: t } } ]
              - name: same
                match: { type: b }
                send: [ { email: { to: [a@example.org], template: t } } ]
            """)
        XCTAssertEqual(issue?.line, 8)
        XCTAssertEqual(issue?.message, "rules[1].name: another rule (line 5) is already named \"same\"")
    }

    func testDuplicateKeyPointsAtTheSecondOne() {
        let issue = single("""
            spool: ./a
            state: ./s
            spool: ./b
            """)
        XCTAssertEqual(issue?.line, 3)
        XCTAssertTrue(issue?.message.contains("\"spool\" appears more than once") == true, "\(String(describing: issue))")
    }

    func testBadDurationsAndTimes() {
        let found = issues(Self.base + """
            rules:
              - name: r
                match: { type: contest.deadline }
                remind:
                  field: data.deadline
                  before: [2w, 0d, 7d, 7d]
                  at: "25:00"
                send: [ { email: { to: [a@example.org], template: t } } ]
            """)
        XCTAssertEqual(found.count, 4, "\(found)")
        XCTAssertTrue(found.allSatisfy { $0.line == 9 || $0.line == 10 })
        XCTAssertEqual(found.map(\.message), [
            "rules[0].remind.before[0]: \"2w\" is not a number of days",
            "rules[0].remind.before[1]: 0d is out of range",
            "rules[0].remind.before[3]: 7d is listed twice",
            "rules[0].remind.at: \"25:00\" is not a time of day",
        ])
        XCTAssertEqual(found.map(\.column), [16, 20, 28, 11])
    }

    func testDanglingReferences() {
        let found = issues(Self.base + """
            webhooks:
              partners-hub: { url: "https://hub.example.org/", secret_file: hub.whsec }
            recipients:
              partners: [rops@example.org]
              institutions: [gops@example.org]
            rules:
              - name: first
                match: { type: a }
                send: [ { email: { to: [partners], template: t } } ]
              - name: second
                match: { type: b }
                send:
                  - email: { to: [partnerzy, jan@example.org], template: t }
                  - webhook: { endpoint: partner-hub }
            """)
        XCTAssertEqual(found.count, 2, "\(found)")
        XCTAssertEqual(found[0].line, 16)
        XCTAssertEqual(found[0].message,
                       "rules[1].send[0].email.to: no recipient list named \"partnerzy\"; defined lists: partners, institutions")
        XCTAssertEqual(found[0].fix, "did you mean 'partners'? Otherwise define it under \"recipients:\" or correct the name")
        XCTAssertEqual(found[1].line, 17)
        XCTAssertEqual(found[1].message,
                       "rules[1].send[1].webhook.endpoint: no webhook named \"partner-hub\"; defined webhooks: partners-hub")
    }

    func testEmailRuleNeedsSMTP() {
        let issue = single("""
            rules:
              - name: r
                match: { type: a }
                send:
                  - email: { to: [a@example.org], template: t }
            """)
        XCTAssertEqual(issue?.line, 5)
        XCTAssertTrue(issue?.message.contains("no \"smtp:\" section") == true)
    }

    func testRuleMustMatchType() {
        let issue = single(Self.base + """
            rules:
              - name: r
                match: { source: cms }
                send: [ { email: { to: [a@example.org], template: t } } ]
            """)
        XCTAssertEqual(issue?.line, 6)
        XCTAssertTrue(issue?.message.hasPrefix("rules[0].match: must test \"type\"") == true)
    }

    func testBadAddressesAndTemplateNames() {
        let found = issues(Self.base + """
            recipients:
              partners: [rops@example.org, "zly adres@example.org"]
            rules:
              - name: r
                match: { type: a }
                send: [ { email: { to: [partners, "x@"], template: ../etc } } ]
            """)
        XCTAssertEqual(found.map(\.line), [5, 9, 9], "\(found)")
        XCTAssertTrue(found[0].message.hasPrefix("recipients.partners[1]: \"zly adres@example.org\" is not a valid email address"))
        XCTAssertTrue(found[1].message.contains("\"x@\" is not a valid email address"), found[1].message)
        XCTAssertTrue(found[2].message.contains("\"../etc\" is not a valid template name"), found[2].message)
    }

    func testCalendarDates() throws {
        let config = try load("""
            calendar:
              - { name: przestepny, date: "02-29", type: a }
            """)
        XCTAssertEqual(config.calendar.first?.day, 29)
        XCTAssertEqual(config.calendar.first?.atMinutes, 9 * 60)
        let found = issues("""
            calendar:
              - { name: a, date: "02-30", type: a }
              - { name: b, date: "13-01", at: "8:60", type: a, data: { year: 1 } }
            """)
        XCTAssertEqual(found.map(\.line), [2, 3, 3, 3], "\(found)")
        XCTAssertEqual(found[0].message, "calendar[0].date: \"02-30\" is not a day of the year: month 02 has 29 days")
    }

    func testCalendarData() throws {
        let config = try load("""
            calendar:
              - name: Gala
                date: "06-01"
                type: ceremony.scheduled
                data: { title: Gala, edition: 9, online: false, venue: { city: Kraków } }
            """)
        XCTAssertEqual(config.calendar.first?.data, [
            "title": .string("Gala"), "edition": .int(9), "online": .bool(false),
            "venue": .object(["city": .string("Kraków")]),
        ])
    }

    func testTimezone() {
        let issue = single("timezone: Europe/Warsawa\n")
        XCTAssertEqual(issue?.line, 1)
        XCTAssertEqual(issue?.fix, "did you mean 'Europe/Warsaw'?")
    }

    func testWebhookURLs() {
        let found = issues("""
            webhooks:
              a: { url: "ftp://example.org/x", secret_file: s }
              b: { url: "http://10.0.0.5/hook", secret_file: s }
              c: { url: "https://user:pw@example.org/", secret_file: s }
            """)
        XCTAssertEqual(found.map(\.line), [2, 3, 4], "\(found)")
        XCTAssertEqual(found[1].fix, "add \"allow_private: true\" under \"webhooks.b\" if this target is meant")
    }

    // MARK: smtp

    func testSMTPTLSDefaultsFollowTheHost() throws {
        func tls(_ url: String) throws -> SMTPConfig.TLSMode? {
            try load("smtp: { url: \"\(url)\", from: a@example.org }").smtp?.tls
        }
        XCTAssertEqual(try tls("smtp://127.0.0.1:25"), SMTPConfig.TLSMode.none)
        XCTAssertEqual(try tls("smtp://localhost"), SMTPConfig.TLSMode.none)
        XCTAssertEqual(try tls("smtp://[::1]:25"), SMTPConfig.TLSMode.none)
        XCTAssertEqual(try tls("smtp://mail.example.org:587"), .starttls)
        XCTAssertEqual(try tls("smtps://mail.example.org:465"), .tls)
    }

    func testSMTPMismatchedTLSAndMissingTarget() {
        let found = issues("""
            smtp:
              url: smtp://mail.example.org:587
              tls: tls
              from: a@example.org
              username: jan
            ---
            """.replacingOccurrences(of: "---", with: "")
            + "smtp2: {}\n")
        XCTAssertEqual(found.map(\.line), [1, 3, 6], "\(found)")
        XCTAssertEqual(found[0].message, "smtp: username is set but password_file is not")
        XCTAssertTrue(found[1].message.hasPrefix("smtp.tls: \"tls\""), found[1].message)
        XCTAssertEqual(found[2].fix, "did you mean 'smtp'? (or remove it)")

        let neither = single("smtp: { from: a@example.org }")
        XCTAssertTrue(neither?.message.contains("neither url nor outbox") == true)
        let scheme = single("smtp: { url: \"http://mail.example.org\", from: a@example.org }")
        XCTAssertEqual(scheme?.column, 14)
        let from = single("smtp:\n  outbox: o\n  from: \"Jan <jan@@example.org>\"")
        XCTAssertEqual(from?.line, 3)
    }

    // MARK: Syntax and files

    func testYAMLSyntaxErrorHasYamsPosition() {
        let issue = single("""
            spool: ./spool
            smtp:
              from: "unterminated
              outbox: x
            """)
        XCTAssertEqual(issue?.line, 4)
        XCTAssertTrue(issue?.message.hasPrefix("YAML syntax:") == true, "\(String(describing: issue))")
        let tab = single("smtp:\n\tfrom: a@example.org\n")
        XCTAssertEqual(tab?.line, 2)
    }

    func testMissingFileIsOneIssueWithoutLine() {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/herold.yaml")
            XCTFail("loaded a missing file")
        } catch {
            XCTAssertEqual(error.issues.count, 1)
            XCTAssertEqual(error.issues[0].line, 0)
            XCTAssertEqual(error.issues[0].file, "/nonexistent/herold.yaml")
            XCTAssertNotNil(error.issues[0].fix)
            XCTAssertEqual(error.description.components(separatedBy: "\n").first,
                           "/nonexistent/herold.yaml: error: the config file does not exist")
        }
    }

    func testAllErrorsAreCollectedInLineOrder() {
        let found = issues("""
            timezone: Mars/Olympus
            spool: ./spool
            smtp:
              outbox: ./o
              from: not-an-address
              timeout: 0
            recipients:
              partners: [a@example.org]
            rules:
              - name: r
                match: { type: a }
                remind: { field: data.deadline, before: [3x] }
                send: [ { email: { to: [partnrs], template: t } } ]
            calendar:
              - { name: c, date: "02-30", type: x }
            extra: 1
            """)
        XCTAssertEqual(found.map(\.line), [1, 5, 6, 12, 13, 15, 16], found.map(\.description).joined(separator: "\n"))
        XCTAssertTrue(found.allSatisfy { $0.file == Self.file && $0.fix != nil })
    }

    // MARK: Paths

    func testRelativePathsResolveAgainstTheConfigFolder() throws {
        let config = try ConfigLoader.load(text: """
            spool: ./spool
            state: /var/lib/herold-test
            smtp:
              outbox: ../outbox/mail
              from: a@example.org
              username: jan
              password_file: secrets/smtp
            webhooks:
              hub: { url: "https://hub.example.org/", secret_file: hub.whsec, outbox: out/hooks }
            """, file: "/etc/herold/herold.yaml", environment: [:])
        XCTAssertEqual(config.spool.path, "/etc/herold/spool")
        XCTAssertEqual(config.state.path, "/var/lib/herold-test")
        XCTAssertEqual(config.smtp?.outbox?.path, "/etc/outbox/mail")
        XCTAssertEqual(config.smtp?.passwordFile?.path, "/etc/herold/secrets/smtp")
        XCTAssertEqual(config.webhooks["hub"]?.secretFile.path, "/etc/herold/hub.whsec")
        XCTAssertEqual(config.webhooks["hub"]?.outbox?.path, "/etc/herold/out/hooks")
        XCTAssertEqual(config.templatesDirectory.path, "/etc/herold/templates")
    }

    func testCredentialsDirectory() throws {
        let yaml = """
            smtp:
              outbox: o
              from: a@example.org
              username: jan
              password_file: $CREDENTIALS_DIRECTORY/smtp-password
            webhooks:
              hub: { url: "https://hub.example.org/", secret_file: "%d/hub.whsec" }
            """
        let environment = ["CREDENTIALS_DIRECTORY": "/run/credentials/herold.service"]
        let config = try load(yaml, environment: environment)
        XCTAssertEqual(config.smtp?.passwordFile?.path, "/run/credentials/herold.service/smtp-password")
        XCTAssertEqual(config.webhooks["hub"]?.secretFile.path, "/run/credentials/herold.service/hub.whsec")

        let found = issues(yaml)
        XCTAssertEqual(found.map(\.line), [5, 7])
        XCTAssertEqual(found[0].message, "smtp.password_file: \"$CREDENTIALS_DIRECTORY/smtp-password\" needs the environment variable CREDENTIALS_DIRECTORY, which is not set")
        XCTAssertTrue(found[0].fix?.contains("LoadCredential=smtp-password:") == true)
        let elsewhere = single("spool: \"%d/spool\"")
        XCTAssertTrue(elsewhere?.message.contains("only understood in password_file and secret_file") == true)
    }

    // MARK: checkFiles

    func testCheckFilesPointsAtTheKeyLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herold-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()
        try (good + "\n").write(to: dir.appendingPathComponent("good.whsec"), atomically: true, encoding: .utf8)
        try "not-a-secret".write(to: dir.appendingPathComponent("bad.whsec"), atomically: true, encoding: .utf8)
        try "whsec_!!!".write(to: dir.appendingPathComponent("garbled.whsec"), atomically: true, encoding: .utf8)
        try "".write(to: dir.appendingPathComponent("smtp-password"), atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("herold.yaml").path
        try """
            smtp:
              outbox: o
              from: a@example.org
              username: jan
              password_file: smtp-password
            webhooks:
              good: { url: "https://a.example.org/", secret_file: good.whsec }
              bad: { url: "https://b.example.org/", secret_file: bad.whsec }
              garbled: { url: "https://c.example.org/", secret_file: garbled.whsec }
              missing: { url: "https://d.example.org/", secret_file: missing.whsec }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: path, environment: [:])
        let found = ConfigLoader.checkFiles(config)
        XCTAssertEqual(found.map(\.line), [5, 8, 9, 10], found.map(\.description).joined(separator: "\n"))
        XCTAssertTrue(found[0].message.hasSuffix("is empty"))
        XCTAssertTrue(found[1].message.hasSuffix("does not start with \"whsec_\""))
        XCTAssertTrue(found[2].message.hasSuffix("is not \"whsec_\" followed by base64"))
        XCTAssertTrue(found[3].message.hasSuffix("does not exist"))
    }

    // MARK: Recipients an event names

    static func eventRecipients(_ options: String) -> String {
        base + """
            rules:
              - name: zaproszenia
                match: { type: ceremony.invitations }
                send:
                  - email:
                      to: [data.recipients]
                      template: t
            \(options)
            """
    }

    func testMaxRecipientsAndAllowedDomainsAreRead() throws {
        let config = try load(Self.eventRecipients("""
                      max_recipients: 40
                      allowed_domains: [MOPS.Krakow.pl, xn--gmina-zka.pl]
            """))
        XCTAssertEqual(config.rules[0].recipientLimits[0],
                       EventRecipientLimits(maxRecipients: 40, allowedDomains: ["mops.krakow.pl", "xn--gmina-zka.pl"]))
        let defaults = try load(Self.eventRecipients(""))
        XCTAssertNil(defaults.rules[0].recipientLimits[0], "no keys: the engine uses EventRecipientLimits()")
        XCTAssertEqual(EventRecipientLimits().maxRecipients, 20)
        XCTAssertNil(EventRecipientLimits().allowedDomains)
    }

    func testBadLimitsAreReportedAtTheirLine() {
        let found = issues(Self.eventRecipients("""
                      max_recipients: 0
                      allowed_domains: ["*.example.org", jan@example.org, żółw.pl, localhost, "-zly-.pl"]
            """))
        XCTAssertEqual(found.map(\.line), [11, 12, 12, 12, 12, 12], "\(found)")
        XCTAssertEqual(found[0].message, "rules[0].send[0].email.max_recipients: 0 is out of range")
        XCTAssertEqual(found[0].fix, "use a number from 1 to 10000")
        XCTAssertTrue(found[1].message.hasPrefix("rules[0].send[0].email.allowed_domains[0]: \"*.example.org\" has a wildcard"), found[1].message)
        XCTAssertTrue(found[2].message.hasSuffix("is an address; write only the domain after @"), found[2].message)
        XCTAssertTrue(found[3].message.contains("xn-- form"), found[3].message)
        XCTAssertTrue(found[4].message.hasSuffix("\"localhost\" is not a domain name such as example.org"), found[4].message)
        XCTAssertTrue(found[5].message.contains("\"-zly-.pl\" is not a domain name"), found[5].message)
        let text = single(Self.eventRecipients("""
                      max_recipients: dużo
            """))
        XCTAssertEqual(text?.line, 11)
        XCTAssertEqual(text?.message, "rules[0].send[0].email.max_recipients: expected a whole number, found \"dużo\"")
    }

    func testLimitsWithoutAnEventFieldAreAMistake() {
        let found = single(Self.base + """
            recipients:
              partners: [rops@example.org]
            rules:
              - name: r
                match: { type: t }
                send:
                  - email: { to: [partners], template: t, max_recipients: 5 }
            """)
        XCTAssertEqual(found?.line, 10)
        XCTAssertEqual(found?.message, "rules[0].send[0].email: max_recipients and allowed_domains limit the recipients an event names, but \"to\" has no data.FIELD")
    }

    func testReminderOffsetsBeyondTenYearsAreRefused() {
        let yaml = Self.base + """
            recipients:
              partners: [rops@example.org]
            rules:
              - name: r
                match: { type: t }
                remind: { field: data.deadline, before: [3651d, 9223372036854775808d, -1d] }
                send:
                  - email: { to: [partners], template: t }
            """
        let found = issues(yaml)
        XCTAssertEqual(found.map(\.message), [
            "rules[0].remind.before[0]: 3651d is out of range",
            "rules[0].remind.before[1]: \"9223372036854775808d\" is not a number of days",
            "rules[0].remind.before[2]: -1d is out of range",
        ])
    }
}
