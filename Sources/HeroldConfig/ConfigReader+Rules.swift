import Foundation
import HeroldCore
import Yams

extension ConfigReader {
    // MARK: rules

    /// Reads `rules:`; references are checked against the lists and endpoints *written* in
    /// the file, so a list with a bad address gives one issue, not one more per rule using it.
    func readRules(_ node: Node, into config: inout HeroldConfig) {
        guard let items = sequence(node, at: "rules") else { return }
        let listNames = declaredLists
        let webhookNames = declaredWebhooks
        let hasSMTP = lines["smtp"] != nil
        var namesSeen: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let base = "rules[\(index)]"
            lines[base] = item.mark?.line
            guard let rule = fields(item, at: base, known: ["name", "match", "remind", "send", "not_after"],
                                    required: ["name", "match", "send"]) else { continue }
            var name: String?
            if let nameNode = rule["name"] {
                name = uniqueName(nameNode, at: "\(base).name", kind: "rule", seen: &namesSeen)
            }
            let match = rule["match"].flatMap { readMatch($0, at: "\(base).match") }
            let remind = rule["remind"].flatMap { readRemind($0, at: "\(base).remind") }
            let notAfter = rule["not_after"].flatMap { duration($0, at: "\(base).not_after", in: 60...(366 * 86400)) }
            var actions: [Action] = []
            var emailOptions: [Int: EmailOptions] = [:]
            var recipientLimits: [Int: EventRecipientLimits] = [:]
            var actionsOK = rule["send"] != nil
            if let sendNode = rule["send"], let sends = sequence(sendNode, at: "\(base).send") {
                if sends.isEmpty {
                    issue(sendNode, "\(base).send: the list is empty, so the rule would send nothing",
                          fix: "add \"- email: { to: [LIST], template: NAME }\" or \"- webhook: { endpoint: NAME }\"")
                    actionsOK = false
                }
                for (actionIndex, actionNode) in sends.enumerated() {
                    let context = ActionContext(path: "\(base).send[\(actionIndex)]", rule: name ?? "",
                                                listNames: listNames, webhookNames: webhookNames, hasSMTP: hasSMTP)
                    lines[context.path] = actionNode.mark?.line
                    if let action = readAction(actionNode, context, into: &config.templateReferences) {
                        actions.append(action)
                        if case .email = action {
                            if let options = readEmailOptions(actionNode, at: context.path) {
                                if options != EmailOptions() { emailOptions[actionIndex] = options }
                            } else {
                                actionsOK = false
                            }
                            recipientLimits[actionIndex] = readRecipientLimits(actionNode, at: context.path, ok: &actionsOK)
                        }
                    } else {
                        actionsOK = false
                    }
                }
            }
            if let name, let match, actionsOK, rule["remind"] == nil || remind != nil, rule["not_after"] == nil || notAfter != nil {
                var rule = Rule(name: name, match: match, remind: remind, send: actions, line: item.mark?.line ?? 0)
                rule.notAfter = notAfter
                rule.emailOptions = emailOptions
                rule.recipientLimits = recipientLimits
                config.rules.append(rule)
            }
        }
    }

    private func readMatch(_ node: Node, at base: String) -> [MatchCondition]? {
        guard let list = entries(node, at: base) else { return nil }
        var conditions: [MatchCondition] = []
        var ok = true
        for (attribute, keyNode, value) in list {
            let path = "\(base).\(attribute)"
            let segments = attribute.split(separator: ".", omittingEmptySubsequences: false)
            guard segments.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) else {
                issue(keyNode, "\(path): \"\(attribute)\" is not an attribute path",
                      fix: "write an attribute (type, source, subject) or a path such as data.edition")
                ok = false
                continue
            }
            switch value {
            case .mapping:
                guard let test = fields(value, at: path, known: ["present"], required: ["present"]),
                      let presentNode = test["present"], let present = bool(presentNode, at: "\(path).present")
                else { ok = false; continue }
                if attribute == "type" {
                    issue(value, "\(path): type must be matched by value, not by presence",
                          fix: "write e.g. \"type: contest.deadline\"")
                    ok = false
                }
                conditions.append(MatchCondition(path: attribute, test: .present(present)))
            case .scalar where value.null != nil:
                issue(value, "\(path): the value is empty",
                      fix: "write the value to match, a list [a, b], or {present: false} to require the attribute is absent")
                ok = false
            default:
                guard let values = stringList(value, at: path) else { ok = false; continue }
                conditions.append(MatchCondition(path: attribute, test: .oneOf(values.map(\.0))))
            }
        }
        if !list.contains(where: { $0.0 == "type" }) {
            issue(section: base, node, "\(base): must test \"type\", so the rule does not take every event",
                  fix: "add \"type: EVENT.TYPE\", e.g. type: contest.deadline")
            ok = false
        }
        return ok ? conditions : nil
    }

    private func readRemind(_ node: Node, at base: String) -> Remind? {
        guard let remind = fields(node, at: base, known: ["field", "before", "at", "shift"], required: ["field", "before"]) else {
            return nil
        }
        let field = remind["field"].flatMap { string($0, at: "\(base).field") }
        var days: [Int] = []
        var ok = true
        if let beforeNode = remind["before"], let items = stringList(beforeNode, at: "\(base).before") {
            for (index, (text, itemNode)) in items.enumerated() {
                let path = "\(base).before[\(index)]"
                guard text.hasSuffix("d"), let n = Int(text.dropLast()), text.dropLast().allSatisfy(\.isASCII) else {
                    issue(itemNode, "\(path): \"\(text)\" is not a number of days",
                          fix: "write whole days as Nd, e.g. 14d for two weeks or 1d for the day before")
                    ok = false
                    continue
                }
                guard (1...3650).contains(n) else {
                    issue(itemNode, "\(path): \(text) is out of range", fix: "use 1d to 3650d")
                    ok = false
                    continue
                }
                if days.contains(n) {
                    issue(itemNode, "\(path): \(text) is listed twice", fix: "remove the repeated value")
                    ok = false
                    continue
                }
                days.append(n)
            }
        } else {
            ok = false
        }
        let at: Int?
        if let atNode = remind["at"] { at = timeOfDay(atNode, at: "\(base).at") } else { at = 9 * 60 }
        guard ok, let field, let at else { return nil }
        return Remind(field: field, beforeDays: days.sorted(by: >), atMinutes: at,
                      shift: shiftOption(remind["shift"], at: "\(base).shift"))
    }

    private struct ActionContext {
        var path: String
        var rule: String
        var listNames: [String]
        var webhookNames: [String]
        var hasSMTP: Bool
    }

    private func readAction(_ node: Node, _ context: ActionContext, into references: inout [TemplateReference]) -> Action? {
        let base = context.path
        guard let list = entries(node, at: base) else { return nil }
        guard list.count == 1, let (kind, keyNode, value) = list.first else {
            issue(section: base, node, "\(base): each item of send must be exactly one of email: or webhook:",
                  fix: "split it into separate \"- email: ...\" and \"- webhook: ...\" items")
            return nil
        }
        switch kind {
        case "email":
            let path = "\(base).email"
            let known = ["to", "template", "attach", "list_unsubscribe", "max_recipients", "allowed_domains"]
            guard let email = fields(value, at: path, known: known, required: ["to", "template"]) else {
                return nil
            }
            if !context.hasSMTP {
                issue(keyNode, "\(path): the rule sends email, but there is no \"smtp:\" section",
                      fix: "add an smtp: section with from: and url: (or outbox:)")
            }
            var recipients: [String] = []
            var ok = context.hasSMTP
            if let toNode = email["to"], let items = stringList(toNode, at: "\(path).to") {
                for (text, itemNode) in items {
                    if text.contains("@") {
                        do {
                            _ = try Mailbox.parse(text)
                            recipients.append(text)
                        } catch {
                            issue(itemNode, "\(path).to: \"\(text)\" is not a valid email address: \(error)",
                                  fix: "write it as name@domain, or the name of a list under \"recipients:\"")
                            ok = false
                        }
                    } else if context.listNames.contains(text) {
                        recipients.append(text)
                    } else if text.hasPrefix("data."), text.count > 5 {
                        // Recipients the event names (`data.recipients`), checked per event.
                        recipients.append(text)
                    } else {
                        let defined = context.listNames.isEmpty ? "none" : context.listNames.joined(separator: ", ")
                        var fix = "define it under \"recipients:\" or correct the name"
                        if let near = Suggestion.closest(to: text, in: context.listNames) {
                            fix = "did you mean '\(near)'? Otherwise " + fix
                        }
                        issue(itemNode, "\(path).to: no recipient list named \"\(text)\"; defined lists: \(defined)", fix: fix)
                        ok = false
                    }
                }
            } else {
                ok = false
            }
            guard let template = templateName(email["template"], at: "\(path).template", kind: .email,
                                              rule: context.rule, into: &references), ok
            else { return nil }
            return .email(to: recipients, template: template)
        case "webhook":
            let path = "\(base).webhook"
            guard let hook = fields(value, at: path, known: ["endpoint", "template"], required: ["endpoint"]) else {
                return nil
            }
            var endpoint: String?
            if let endpointNode = hook["endpoint"], let text = string(endpointNode, at: "\(path).endpoint") {
                if context.webhookNames.contains(text) {
                    endpoint = text
                } else {
                    let defined = context.webhookNames.isEmpty ? "none" : context.webhookNames.joined(separator: ", ")
                    var fix = "define it under \"webhooks:\" or correct the name"
                    if let near = Suggestion.closest(to: text, in: context.webhookNames) {
                        fix = "did you mean '\(near)'? Otherwise " + fix
                    }
                    issue(endpointNode, "\(path).endpoint: no webhook named \"\(text)\"; defined webhooks: \(defined)", fix: fix)
                }
            }
            var template: String?
            if let templateNode = hook["template"] {
                template = templateName(templateNode, at: "\(path).template", kind: .webhook,
                                        rule: context.rule, into: &references)
                if template == nil { return nil }
            }
            guard let endpoint else { return nil }
            return .webhook(endpoint: endpoint, template: template)
        default:
            issue(keyNode, "\(base): unknown action \"\(kind)\"; known actions: email, webhook",
                  fix: Suggestion.closest(to: kind, in: ["email", "webhook"]).map { "did you mean '\($0)'?" }
                    ?? "write \"- email: {...}\" or \"- webhook: {...}\"")
            return nil
        }
    }

    private func templateName(_ node: Node?, at path: String, kind: TemplateReference.Kind, rule: String,
                              into references: inout [TemplateReference]) -> String? {
        guard let node, let name = string(node, at: path),
              identifier(name, node: node, at: path, what: "template") else { return nil }
        references.append(TemplateReference(name: name, kind: kind, rule: rule, path: path,
                                            line: node.mark?.line ?? 0, column: node.mark?.column ?? 0))
        return name
    }

    // MARK: calendar

    func readCalendar(_ node: Node) -> [CalendarEntry] {
        guard let items = sequence(node, at: "calendar") else { return [] }
        var result: [CalendarEntry] = []
        var namesSeen: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let base = "calendar[\(index)]"
            lines[base] = item.mark?.line
            guard let entry = fields(item, at: base, known: ["name", "date", "at", "type", "data", "shift"],
                                     required: ["name", "date", "type"]) else { continue }
            var name: String?
            if let nameNode = entry["name"] {
                name = uniqueName(nameNode, at: "\(base).name", kind: "calendar entry", seen: &namesSeen)
            }
            let date = entry["date"].flatMap { monthDay($0, at: "\(base).date") }
            let at: Int?
            if let atNode = entry["at"] { at = timeOfDay(atNode, at: "\(base).at") } else { at = 9 * 60 }
            let type = entry["type"].flatMap { string($0, at: "\(base).type") }
            var data: [String: JSONValue] = [:]
            var dataOK = true
            if let dataNode = entry["data"] {
                if case .object(let members) = json(dataNode, at: "\(base).data"), case .mapping = dataNode {
                    data = members
                    if members["year"] != nil {
                        issue(dataNode, "\(base).data: \"year\" is set by herold itself", fix: "remove \"year\" from data")
                        dataOK = false
                    }
                } else {
                    issue(dataNode, "\(base).data: expected a mapping (key: value), found \(describe(dataNode))",
                          fix: "write the event's data as indented \"key: value\" lines")
                    dataOK = false
                }
            }
            if let name, let date, let at, let type, dataOK {
                result.append(CalendarEntry(name: name, month: date.month, day: date.day, atMinutes: at,
                                            type: type, data: data,
                                            shift: shiftOption(entry["shift"], at: "\(base).shift")))
            }
        }
        return result
    }

    /// "MM-DD" of a leap year, so 02-29 is accepted (the scheduler decides what happens in other years).
    private func monthDay(_ node: Node, at path: String) -> (month: Int, day: Int)? {
        guard let text = string(node, at: path) else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        let daysIn = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        if parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
           let month = Int(parts[0]), let day = Int(parts[1]), (1...12).contains(month),
           (1...daysIn[month - 1]).contains(day) {
            return (month, day)
        }
        if parts.count == 2, let month = Int(parts[0]), (1...12).contains(month), Int(parts[1]) != nil {
            issue(node, "\(path): \"\(text)\" is not a day of the year: month \(parts[0]) has \(daysIn[month - 1]) days",
                  fix: "correct the day; 02-29 is allowed (leap years only)")
            return nil
        }
        issue(node, "\(path): \"\(text)\" is not a day of the year", fix: "write it as \"MM-DD\" in quotes, e.g. \"11-21\"")
        return nil
    }

    /// YAML to JSON, typing plain scalars the way YAML does (numbers, booleans, null).
    private func json(_ node: Node, at path: String) -> JSONValue {
        switch node {
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                members[key.string ?? ""] = json(value, at: path)
            }
            return .object(members)
        case .sequence(let sequence):
            return .array(sequence.map { json($0, at: path) })
        case .alias:
            return .null
        case .scalar(let scalar):
            guard scalar.style == .plain || scalar.style == .any else { return .string(scalar.string) }
            if node.null != nil { return .null }
            if let bool = Bool.construct(from: scalar), ["true", "false"].contains(scalar.string.lowercased()) {
                return .bool(bool)
            }
            if let int = Int64(scalar.string) { return .int(int) }
            if let double = Double(scalar.string), scalar.string.allSatisfy({ "0123456789.eE+-".contains($0) }) {
                return .double(double)
            }
            return .string(scalar.string)
        }
    }

    /// The name, or nil (with an issue) when it is not a string or an earlier item has it.
    func uniqueName(_ node: Node, at path: String, kind: String, seen: inout [String: Int]) -> String? {
        guard let text = string(node, at: path) else { return nil }
        if let first = seen[text] {
            issue(node, "\(path): another \(kind) (line \(first)) is already named \"\(text)\"",
                  fix: "give each \(kind) its own name")
            return nil
        }
        seen[text] = node.mark?.line ?? 0
        return text
    }
}
