import Foundation
import HeroldConfig
import HeroldCore

extension RuleEngine {
    /// The rendered message for one recipient, or why it cannot be built. Never a partial message.
    func render(event: CloudEvent, rule: Rule, action: Action, index: Int, recipient: Recipient,
                reminder: ReminderTime?, field: JSONValue?) -> Result<DeliveryPayload, DeliveryHold> {
        switch (action, recipient) {
        case (.email(_, let name), .address(let address, let mailbox, let eventDetails)):
            guard let smtp = config.smtp else {
                return .failure(DeliveryHold(reason: "no smtp section in the config, so email cannot be sent"))
            }
            guard let email = templates.emails[name] else {
                return .failure(DeliveryHold(reason: "template \"\(name)\" is not loaded (templates/\(name)/subject.mustache and text.mustache)"))
            }
            var fields = ["address": address, "name": mailbox.displayName ?? ""]
            if let details = eventDetails ?? config.recipientDetails[address.lowercased()] {
                fields.merge(details.templateFields) { _, new in new }
            }
            let options = rule.emailOptions[index] ?? EmailOptions()
            let files: [AttachmentRef]
            switch attachments(for: options, event: event) {
            case .success(let refs): files = refs
            case .failure(let hold): return .failure(hold)
            }
            var context = TemplateContext(event: event, rule: rule.name, recipient: fields,
                                          reminder: reminder, reminderField: field, timeZone: config.timezone)
            // `{{#attachments.0}}W załączeniu: {{pl_lista(attachments)}}.{{/attachments.0}}`
            if !files.isEmpty, case .object(var root) = context.root {
                root["attachments"] = .array(files.map { .object(["name": .string($0.name)]) })
                context.root = .object(root)
            }
            do throws(TemplateFailure) {
                let content = try Self.renderEmail(email, context: context)
                let html = try Self.renderHTML(email, context: context)
                return .success(.email(EmailContent(from: smtp.from.description, to: mailbox.description,
                                                    subject: content.subject, text: content.text, html: html,
                                                    attachments: files, replyTo: smtp.replyTo?.description,
                                                    sender: smtp.sender?.description,
                                                    listUnsubscribe: options.listUnsubscribe)))
            } catch {
                return .failure(DeliveryHold(reason: error.description))
            }
        case (.webhook(let endpoint, nil), .endpoint):
            return .success(.webhook(WebhookContent(endpoint: endpoint, contentType: "application/cloudevents+json",
                                                    body: event.structuredJSON())))
        case (.webhook(let endpoint, let name?), .endpoint):
            guard let template = templates.webhookBodies[name] else {
                return .failure(DeliveryHold(reason: "template \"\(name)\" is not loaded (templates/\(name)/body.json.mustache)"))
            }
            let context = TemplateContext(event: event, rule: rule.name, recipient: ["endpoint": endpoint],
                                          reminder: reminder, reminderField: field, timeZone: config.timezone)
            do throws(TemplateFailure) {
                let body = try Self.renderJSONBody(template, context: context)
                return .success(.webhook(WebhookContent(endpoint: endpoint, contentType: "application/json", body: body)))
            } catch {
                return .failure(DeliveryHold(reason: error.description))
            }
        default:
            return .failure(DeliveryHold(reason: "recipient \"\(recipient.name)\" does not fit this action"))
        }
    }

    /// The rule's `attach:` files, then the event's `data.attachments`, each once.
    func attachments(for options: EmailOptions, event: CloudEvent) -> Result<[AttachmentRef], DeliveryHold> {
        var paths = options.attach
        switch event.value(at: "data.attachments") {
        case nil, .null?: break
        case .array(let items)?:
            for item in items {
                guard let text = item.stringValue else {
                    return .failure(DeliveryHold(reason: "data.attachments must be a list of file names (texts), found \(item.scalarText ?? "a JSON container")"))
                }
                paths.append(text)
            }
        case .string(let text)?: paths.append(text)
        default:
            return .failure(DeliveryHold(reason: "data.attachments must be a list of file names relative to attachments.roots"))
        }
        var refs: [AttachmentRef] = []
        var seen: Set<String> = []
        for path in paths where seen.insert(path).inserted {
            switch AttachmentResolver(config: config.attachments).resolve(path) {
            case .success(let ref): refs.append(ref)
            case .failure(let reason): return .failure(DeliveryHold(reason: reason.description))
            }
        }
        return .success(refs)
    }

    /// Subject (one line, trimmed, not empty) and text (not empty) of an email.
    public static func renderEmail(_ email: TemplateSet.Email, context: TemplateContext)
        throws(TemplateFailure) -> (subject: String, text: String) {
        let subject = trimmed(try email.subject.render(context).get())
        if subject.isEmpty {
            throw TemplateFailure(template: email.subject.label, message: "the subject rendered empty")
        }
        if subject.contains(where: { $0.isNewline }) {
            throw TemplateFailure(template: email.subject.label,
                                  message: "the subject contains a line break after rendering (a value with a line break?)")
        }
        // The composer refuses these at send time, which would fail the delivery for good.
        if subject.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            throw TemplateFailure(template: email.subject.label,
                                  message: "the subject contains a control character after rendering (a value with one?)")
        }
        let text = try email.text.render(context).get()
        if text.allSatisfy(\.isWhitespace) {
            throw TemplateFailure(template: email.text.label, message: "the text rendered empty")
        }
        return (subject, text)
    }

    /// `text` without white space and line breaks at either end; a text with neither at its
    /// ends (most subjects) is returned as it is, without a copy.
    static func trimmed(_ text: String) -> String {
        let blank = CharacterSet.whitespacesAndNewlines
        if let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
           !blank.contains(first), !blank.contains(last) {
            return text
        }
        return text.trimmingCharacters(in: blank)
    }

    /// The HTML alternative of an email, when the template has `html.mustache` (values HTML-escaped).
    public static func renderHTML(_ email: TemplateSet.Email, context: TemplateContext) throws(TemplateFailure) -> String? {
        guard let html = email.html else { return nil }
        let output = try html.render(context).get()
        if output.allSatisfy(\.isWhitespace) {
            throw TemplateFailure(template: html.label, message: "the HTML rendered empty")
        }
        return output
    }

    /// A webhook body that is valid JSON, or a failure saying why not.
    public static func renderJSONBody(_ template: CompiledTemplate, context: TemplateContext) throws(TemplateFailure) -> Data {
        let text = try template.render(context).get()
        if text.allSatisfy(\.isWhitespace) {
            throw TemplateFailure(template: template.label, message: "the body rendered empty")
        }
        let body = Data(text.utf8)
        do {
            _ = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        } catch {
            throw TemplateFailure(template: template.label,
                                  message: "the body is not valid JSON (is a {{value}} outside quotes?): \(error.localizedDescription)")
        }
        return body
    }
}
