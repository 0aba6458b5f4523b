import Foundation

/// The secrets the config names, read once and checked: the relay password and each webhook
/// endpoint's signing secret (and its old one during key rotation), by endpoint name.
public struct SecretTexts: Sendable, Equatable {
    public var smtpPassword: String?
    public var webhook: [String: String] = [:]
    public var previousWebhook: [String: String] = [:]

    public init(smtpPassword: String? = nil, webhook: [String: String] = [:], previousWebhook: [String: String] = [:]) {
        self.smtpPassword = smtpPassword
        self.webhook = webhook
        self.previousWebhook = previousWebhook
    }
}

extension ConfigLoader {
    /// The one place secret files are read and checked: each exists and is readable, the
    /// password is not empty, a webhook secret is `whsec_` + base64 of 24+ bytes. A secret with
    /// a problem is left out of the texts and named, with its config line, in the issues.
    public static func readSecrets(_ config: HeroldConfig) -> (texts: SecretTexts, issues: [ConfigIssue]) {
        var issues: [ConfigIssue] = []
        var texts = SecretTexts()
        let file = config.file.path
        if let passwordFile = config.smtp?.passwordFile {
            let line = config.lines["smtp.password_file"] ?? 0
            if let text = readSecret(passwordFile, key: "smtp.password_file", file: file, line: line, into: &issues) {
                if text.isEmpty {
                    issues.append(ConfigIssue(file: file, line: line, message: "smtp.password_file: \(passwordFile.path) is empty",
                                              fix: "write the SMTP password into it (only the password, one line)"))
                } else {
                    texts.smtpPassword = text
                }
            }
        }
        for hook in config.webhooks.values.sorted(by: { $0.name < $1.name }) {
            let key = "webhooks.\(hook.name).secret_file"
            texts.webhook[hook.name] = webhookSecret(hook.secretFile, key: key, config: config, into: &issues,
                                                     fix: "write a Standard Webhooks secret, e.g. from: echo \"whsec_$(head -c 32 /dev/urandom | base64)\"")
            guard let previous = hook.previousSecretFile else { continue }
            texts.previousWebhook[hook.name] = webhookSecret(previous, key: "webhooks.\(hook.name).previous_secret_file", config: config,
                                                             into: &issues,
                                                             fix: "write the old whsec_ secret there, or remove the key once receivers use the new one")
        }
        return (texts, issues)
    }

    /// A `whsec_` secret file's text, or nil after recording why it cannot be used.
    private static func webhookSecret(_ url: URL, key: String, config: HeroldConfig, into issues: inout [ConfigIssue],
                                      fix: String) -> String? {
        let line = config.lines[key] ?? 0
        guard let text = readSecret(url, key: key, file: config.file.path, line: line, into: &issues) else { return nil }
        if let problem = secretProblem(text) {
            issues.append(ConfigIssue(file: config.file.path, line: line, message: "\(key): \(url.path) \(problem)", fix: fix))
            return nil
        }
        return text
    }
}
