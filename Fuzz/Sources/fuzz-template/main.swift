// Template rendering with the Polish helpers: a fixed template set, the fuzz input as the
// event's `data` (JSON). Invariants: no trap; every planned delivery is sendable or held with
// a reason; delivery ids are unique; planned emails compose; webhook bodies are JSON.
import Foundation
import FuzzSupport
import HeroldConfig
import HeroldCore
import HeroldMessage
import HeroldRules

let numberHelpers = TemplateHelpers.numberHelpers.sorted().map { "{{\($0)(data.n)}}" }.joined(separator: " ")
let dateHelpers = TemplateHelpers.dateHelpers.sorted().map { "{{\($0)(data.date)}}" }.joined(separator: " ")

let templates: [String: String] = [
    "t/subject.mustache": "{{data.title}} {{pl_za_ile(data.n)}} {{pl_data(data.date)}}",
    "t/text.mustache": """
        Szanowni Państwo, {{recipient.salutation}} {{recipient.name}}
        \(numberHelpers)
        \(dateHelpers)
        {{plusone(data.n)}} {{minusone(data.n)}} {{even(data.n)}} {{odd(data.n)}} {{equalzero(data.n)}}
        {{pl_lista(data.list)}} | {{count(data.list)}} | {{pl_laureaci(count(data.list))}} | {{pl_dni(count(data.list))}}
        {{#data.list}}{{index()}}. {{name}}{{.}} {{pl_data_i_godzina(date)}} {{pl_za_ile(n)}}{{^last()}}, {{/last()}}{{/data.list}}
        {{#reversed(data.list)}}{{name}}{{/reversed(data.list)}} {{first(data.list)}} {{last(data.list)}}
        {{uppercased(data.title)}} {{lowercased(data.title)}} {{capitalized(data.title)}} {{{data.title}}}
        {{#data.flag}}tak{{/data.flag}}{{^data.flag}}nie{{/data.flag}} {{reminder.za_ile}} {{reminder.dni}} {{reminder.termin}}

        """,
    "t/html.mustache": "<p>{{data.title}} {{pl_lista(data.list)}} {{pl_data_dzien(data.date)}}</p>\n",
    "w/body.json.mustache": #"{"title": "{{data.title}}", "n": {{#data.n}}"{{pl_za_ile(data.n)}}"{{/data.n}}{{^data.n}}null{{/data.n}}, "lista": "{{pl_lista(data.list)}}"}"#,
]

let isFuzzType = MatchCondition(path: "type", test: .oneOf(["fuzz"]))
let rules = [
    Rule(name: "fixed", match: [isFuzzType], send: [.email(to: ["gops@example.org"], template: "t")]),
    Rule(name: "event-recipients", match: [isFuzzType, MatchCondition(path: "data.to", test: .present(true))],
         send: [.email(to: ["data.to"], template: "t")]),
    Rule(name: "hook", match: [isFuzzType], send: [.webhook(endpoint: "hub", template: "w")]),
    Rule(name: "reminder", match: [isFuzzType, MatchCondition(path: "data.date", test: .present(true))],
         remind: Remind(field: "data.date", beforeDays: [14, 1, 0], atMinutes: 9 * 60, shift: .previous),
         send: [.email(to: ["gops@example.org"], template: "t")]),
]

let root = URL(fileURLWithPath: "/nonexistent/herold-fuzz")
let config = HeroldConfig(
    file: root.appendingPathComponent("herold.yaml"), timezone: TimeZone(identifier: "Europe/Warsaw") ?? .current,
    spool: root.appendingPathComponent("spool"), state: root.appendingPathComponent("state"),
    templatesDirectory: root.appendingPathComponent("templates"),
    smtp: SMTPConfig(url: "smtp://127.0.0.1:2525", tls: .none,
                     from: Mailbox(displayName: "Powiadomienia ROPS", address: "powiadomienia@example.org")),
    webhooks: ["hub": WebhookConfig(name: "hub", url: "http://127.0.0.1:8080/hook",
                                    secretFile: root.appendingPathComponent("hub.whsec"), allowPrivate: true)],
    recipients: [:], rules: rules, calendar: [])
let engine: RuleEngine = {
    do {
        return RuleEngine(config: config, templates: try TemplateSet.compile(config: config, files: templates))
    } catch {
        fatalError("the fuzz template set does not compile: \(error)")
    }
}()
let now = Date(timeIntervalSince1970: 1_795_000_000) // 2026-11-18

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes(data, size))) else { return 0 }
    let eventData: JSONValue
    if case .object = value { eventData = value } else { eventData = .object(["n": value, "list": value, "title": value]) }
    let event: CloudEvent
    do {
        event = try CloudEvent(attributes: ["specversion": .string("1.0"), "id": .string("fuzz-1"), "source": .string("https://example.org/fuzz"),
                                            "type": .string("fuzz"), "data": eventData])
    } catch {
        return 0
    }
    check(engine.plan(event: event, now: now))
    return 0
}

func check(_ plan: [Delivery]) {
    require(Set(plan.map(\.id)).count == plan.count, "two deliveries share an id: \(plan.map(\.id))")
    for delivery in plan {
        if delivery.state == .held {
            require(!(delivery.reason ?? "").isEmpty, "held without a reason")
            continue
        }
        switch delivery.payload {
        case .email(let mail)?:
            do {
                _ = try EmailComposer().compose(mail, id: delivery.id, date: now)
            } catch {
                require(false, "planned email cannot be composed: \(error); subject \(mail.subject.debugDescription), to \(mail.to.debugDescription)")
            }
        case .webhook(let hook)?:
            require((try? JSONSerialization.jsonObject(with: hook.body, options: [.fragmentsAllowed])) != nil,
                    "webhook body is not JSON: \(String(decoding: hook.body, as: UTF8.self))")
        case nil:
            require(false, "a \(delivery.state) delivery has no payload")
        }
    }
}

runFuzzer(testOneInput)
