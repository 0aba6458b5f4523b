import Foundation
import HeroldConfig
import HeroldCore
import HeroldMessage
import HeroldTransport

extension Runtime {
    /// `smtp.auth`, `smtp.token_file` and `smtp.max_connections` onto the transport settings;
    /// the token itself is read by the sender for every message (tokens expire within the hour).
    static func applyAuth(_ smtp: SMTPConfig, to settings: inout SMTPSettings) {
        settings.maxConnections = smtp.maxConnections
        settings.auth = smtp.auth.flatMap { SMTPAuthMechanism(rawValue: $0.rawValue) }
        settings.tokenFile = smtp.tokenFile?.path
    }

    /// Each endpoint's `previous_secret_file`, read and checked like `secret_file`.
    static func previousSecrets(_ config: HeroldConfig, issues: inout [ConfigIssue]) -> [String: WebhookSecret] {
        var result: [String: WebhookSecret] = [:]
        for (name, endpoint) in config.webhooks {
            guard let file = endpoint.previousSecretFile else { continue }
            let key = "webhooks.\(name).previous_secret_file"
            let line = config.lines[key] ?? 0
            guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                issues.append(ConfigIssue(file: config.file.path, line: line, message: "\(key): \(file.path) cannot be read",
                                          fix: "create it with the old secret, or remove previous_secret_file once the receivers use the new one"))
                continue
            }
            do {
                result[name] = try WebhookSecret(text.trimmingCharacters(in: .whitespacesAndNewlines))
            } catch {
                issues.append(ConfigIssue(file: config.file.path, line: line, message: "\(key): \(file.path): \(error)",
                                          fix: "write a Standard Webhooks secret (whsec_ + base64)"))
            }
        }
        return result
    }
}

extension Runtime {
    /// The signed request a webhook delivery would send at `date`, or nil if it cannot be built.
    func previewRequest(_ delivery: HeroldCore.Delivery, hook: HeroldCore.WebhookContent, date: Date) -> WebhookRequest? {
        guard let endpoint = config.webhooks[hook.endpoint], let secret = webhookSecrets[hook.endpoint] else { return nil }
        return try? WebhookRequest.build(url: endpoint.url, secret: secret, id: delivery.id, timestamp: date,
                                         contentType: hook.contentType, body: hook.body,
                                         allowPrivate: endpoint.allowPrivate,
                                         previousSecret: previousWebhookSecrets[hook.endpoint],
                                         extraHeaders: endpoint.headers.map { HeaderField(name: $0.name, value: $0.value) })
    }
}
