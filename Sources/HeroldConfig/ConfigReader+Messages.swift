import Foundation
import HeroldCore
import Yams

extension ConfigReader {
    static let smtpMessageKeys = ["auth", "token_file", "reply_to", "sender", "max_connections", "idle_timeout"]
    static let webhookMessageKeys = ["headers", "previous_secret_file", "max_connections"]

    /// `auth`, `token_file`, `reply_to`, `sender`; false when one of them is wrong.
    func readSMTPExtras(_ smtp: Fields, into config: inout SMTPConfig) -> Bool {
        var ok = true
        if let node = smtp["max_connections"] {
            if let value = int(node, at: "smtp.max_connections", in: 1...50) { config.maxConnections = value } else { ok = false }
        }
        if let node = smtp["idle_timeout"] {
            if let value = duration(node, at: "smtp.idle_timeout", in: 1...3600) { config.idleTimeout = Int(value) } else { ok = false }
        }
        if let authNode = smtp["auth"], let text = string(authNode, at: "smtp.auth") {
            if let auth = SMTPAuth(rawValue: text.lowercased()) {
                config.auth = auth
            } else {
                issue(authNode, "smtp.auth: \"\(text)\" is not one of plain, login, xoauth2",
                      fix: Suggestion.closest(to: text, in: SMTPAuth.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" }
                        ?? "write plain, login or xoauth2")
                ok = false
            }
        }
        if let tokenNode = smtp["token_file"] {
            config.tokenFile = path(tokenNode, at: "smtp.token_file", credential: true)
            if config.tokenFile == nil { ok = false }
        }
        // A misspelt auth was reported above; guessing what was meant would only add noise.
        if smtp["auth"] != nil, config.auth == nil { return false }
        let xoauth2 = config.auth == .xoauth2
        if xoauth2, smtp["token_file"] == nil || smtp["username"] == nil {
            issue(section: "smtp", smtp.node, "smtp: auth xoauth2 needs username and token_file",
                  fix: "add \"username: konto@example.org\" and \"token_file: $CREDENTIALS_DIRECTORY/smtp-token\"")
            ok = false
        } else if !xoauth2, smtp["token_file"] != nil {
            issue(section: "smtp", smtp.node, "smtp: token_file is only used with auth: xoauth2", fix: "add \"auth: xoauth2\" or remove token_file")
            ok = false
        } else if let auth = config.auth, auth != .xoauth2, smtp["password_file"] == nil {
            issue(section: "smtp", smtp.node, "smtp: auth \(auth.rawValue) needs username and password_file",
                  fix: "add \"username: ...\" and \"password_file: secrets/smtp-password\"")
            ok = false
        }
        for (key, header) in [("reply_to", "Reply-To"), ("sender", "Sender")] {
            guard let node = smtp[key], let text = string(node, at: "smtp.\(key)") else { continue }
            do {
                let mailbox = try Mailbox.parse(text)
                if key == "reply_to" { config.replyTo = mailbox } else { config.sender = mailbox }
            } catch {
                issue(node, "smtp.\(key): \"\(text)\" is not a valid \(header) address: \(error)",
                      fix: "write e.g. \"Sekretariat ROPS <sekretariat@example.org>\" in quotes")
                ok = false
            }
        }
        return ok
    }

    /// `headers: {X-Zrodlo: herold}` and `previous_secret_file`; false when one is wrong.
    func readWebhookExtras(_ hook: Fields, at base: String, into config: inout WebhookConfig) -> Bool {
        var ok = true
        if let node = hook["max_connections"] {
            if let value = int(node, at: "\(base).max_connections", in: 1...64) { config.maxConnections = value } else { ok = false }
        }
        if let headersNode = hook["headers"], let list = entries(headersNode, at: "\(base).headers") {
            let token = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~".unicodeScalars)
            let reserved = ["content-type", "content-length", "host", "user-agent", "transfer-encoding", "connection", "expect"]
            for (name, keyNode, valueNode) in list {
                let path = "\(base).headers.\(name)"
                guard name.unicodeScalars.allSatisfy({ token.contains($0) }) else {
                    issue(keyNode, "\(path): \"\(name)\" is not a valid header name", fix: "use ASCII letters, digits and '-'")
                    ok = false
                    continue
                }
                let lower = name.lowercased()
                if lower.hasPrefix("webhook-") || reserved.contains(lower) {
                    issue(keyNode, "\(path): \(name) is set by herold itself", fix: "remove it; herold signs and frames each request")
                    ok = false
                    continue
                }
                // `string` refuses CR, LF and other control characters (header injection).
                guard let value = string(valueNode, at: path) else { ok = false; continue }
                config.headers.append(ExtraHeader(name: name, value: value))
            }
        } else if hook["headers"] != nil {
            ok = false
        }
        if let previous = hook["previous_secret_file"] {
            config.previousSecretFile = path(previous, at: "\(base).previous_secret_file", credential: true)
            if config.previousSecretFile == nil { ok = false }
        }
        return ok
    }

    /// A list entry: `"Name <addr>"` or `{ address, name, institution, salutation, ... }`.
    func recipientItems(_ node: Node, at base: String) -> [(String, Node, RecipientDetails?)]? {
        guard case .sequence(let sequence) = node else {
            return stringList(node, at: base).map { $0.map { ($0.0, $0.1, nil) } }
        }
        guard !sequence.isEmpty else {
            issue(node, "\(base): the list is empty", fix: "give at least one address")
            return nil
        }
        var result: [(String, Node, RecipientDetails?)] = []
        for (index, item) in sequence.enumerated() {
            let path = "\(base)[\(index)]"
            guard case .mapping = item else {
                if let text = string(item, at: path) { result.append((text, item, nil)) }
                continue
            }
            guard let entry = entries(item, at: path) else { continue }
            var details = RecipientDetails()
            var address: String?
            for (key, keyNode, valueNode) in entry {
                guard identifier(key, node: keyNode, at: "\(path).\(key)", what: "field"),
                      let text = string(valueNode, at: "\(path).\(key)") else { continue }
                switch key {
                case "address": address = text
                case "name": details.name = text
                case "institution": details.institution = text
                case "salutation": details.salutation = text
                default: details.extra[key] = text
                }
            }
            guard let address else {
                issue(item, "\(path): missing required key \"address\"", fix: "add \"address: name@domain\"")
                continue
            }
            if address.contains("<") {
                issue(item, "\(path).address: write the bare address here; the name goes in \"name:\"", fix: "e.g. address: dyrektor@example.org")
                continue
            }
            if let name = details.name, name.contains(where: { "<>\"".contains($0) }) {
                issue(item, "\(path).name: must not contain <, > or \"", fix: "write the name only")
                continue
            }
            let written = details.name.map { "\"\($0)\" <\(address)>" } ?? address
            result.append((written, item, details))
        }
        return result
    }
}
