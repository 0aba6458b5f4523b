import Foundation
import HeroldConfig
import HeroldCore
@testable import HeroldRules

enum Fixtures {
    static let warsaw = TimeZone(identifier: "Europe/Warsaw")!
    static let root = URL(fileURLWithPath: "/tmp/herold-rules-tests")

    /// The repository root, found from this file's path.
    static let repo = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func config(rules: [Rule],
                       recipients: [String: [String]] = [
                           "partners": ["rops@example.org", "kwp@example.org"],
                           "institutions": ["gops@example.org", "pcpr@example.org"],
                       ],
                       templatesDirectory: URL = root.appendingPathComponent("templates")) -> HeroldConfig {
        HeroldConfig(
            file: root.appendingPathComponent("herold.yaml"), timezone: warsaw,
            spool: root.appendingPathComponent("spool"), state: root.appendingPathComponent("state"),
            templatesDirectory: templatesDirectory,
            smtp: SMTPConfig(url: "smtp://127.0.0.1:2525", tls: .none,
                             from: Mailbox(displayName: "Powiadomienia ROPS", address: "powiadomienia@example.org")),
            webhooks: ["partnerzy-hub": WebhookConfig(name: "partnerzy-hub", url: "http://127.0.0.1:8080/hook",
                                                      secretFile: root.appendingPathComponent("secrets/hub.whsec"),
                                                      allowPrivate: true)],
            recipients: recipients, rules: rules, calendar: [])
    }

    /// An engine with in-memory templates (`NAME/FILE` → text).
    static func engine(rules: [Rule], files: [String: String],
                       recipients: [String: [String]]? = nil) throws -> RuleEngine {
        let built = recipients.map { Fixtures.config(rules: rules, recipients: $0) } ?? Fixtures.config(rules: rules)
        return RuleEngine(config: built, templates: try TemplateSet.compile(config: built, files: files))
    }

    static func event(type: String = "contest.deadline", id: String = "e-1",
                      source: String = "https://rops.example.org/konkursy",
                      data: [String: JSONValue] = [:], extra: [String: JSONValue] = [:]) throws -> CloudEvent {
        var attributes: [String: JSONValue] = [
            "specversion": "1.0", "id": .string(id), "source": .string(source), "type": .string(type),
            "data": .object(data),
        ]
        attributes.merge(extra) { _, new in new }
        return try CloudEvent(attributes: attributes)
    }

    static func date(_ text: String) -> Date { RFC3339.parseDateTime(text)! }

    static let simpleEmail: [String: String] = [
        "t/subject.mustache": "Temat {{data.contest}}\n",
        "t/text.mustache": "Treść {{data.contest}}\n",
    ]
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}
