import Foundation
import HeroldConfig
import HeroldCore

extension RuleEngine {
    /// The rendered message for one recipient, or why it cannot be built. Never a partial message.
    func render(event: CloudEvent, rule: Rule, action: Action, recipient: Recipient,
                reminder: ReminderTime?, field: JSONValue?) -> Result<DeliveryPayload, DeliveryHold> {
        switch (action, recipient) {
        case (.email(_, let name), .address(let address, let mailbox)):
            guard let smtp = config.smtp else {
                return .failure(DeliveryHold(reason: "no smtp section in the config, so email cannot be sent"))
            }
            guard let email = templates.emails[name] else {
                return .failure(DeliveryHold(reason: "template \"\(name)\" is not loaded (templates/\(name)/subject.mustache and text.mustache)"))
            }
            let context = TemplateContext(event: event, rule: rule.name, recipient: ["address": address, "name": mailbox.displayName ?? ""],
                                          reminder: reminder, reminderField: field, timeZone: config.timezone)
            do throws(TemplateFailure) {
                let content = try Self.renderEmail(email, context: context)
                return .success(.email(EmailContent(from: smtp.from.description, to: mailbox.description,
                                                    subject: content.subject, text: content.text)))
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

    /// Subject (one line, trimmed, not empty) and text (not empty) of an email.
    public static func renderEmail(_ email: TemplateSet.Email, context: TemplateContext)
        throws(TemplateFailure) -> (subject: String, text: String) {
        let subject = try email.subject.render(context).get()
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if subject.isEmpty {
            throw TemplateFailure(template: email.subject.label, message: "the subject rendered empty")
        }
        if subject.contains(where: { $0.isNewline }) {
            throw TemplateFailure(template: email.subject.label,
                                  message: "the subject contains a line break after rendering (a value with a line break?)")
        }
        let text = try email.text.render(context).get()
        if text.allSatisfy(\.isWhitespace) {
            throw TemplateFailure(template: email.text.label, message: "the text rendered empty")
        }
        return (subject, text)
    }

    /// The HTML alternative of an email, when the template has `html.mustache` (values HTML-escaped).
    /// `EmailContent` has no place for it yet; the composer can call this with the same context.
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
