import Foundation
import HeroldCore
import Yams

extension ConfigReader {
    static let topLevelKeys = ["timezone", "spool", "state", "limits", "smtp", "webhooks", "recipients", "rules", "calendar",
                                 "grace", "retry", "shutdown_timeout", "attachments", "retention", "log_recipients", "notify", "metrics",
                                 "journal"]

    /// Reads the whole document; with issues, the returned config is incomplete and must not be used.
    func readConfig(root: Node?, fileURL: URL) -> HeroldConfig {
        var config = HeroldConfig(
            file: fileURL, timezone: TimeZone(identifier: "Europe/Warsaw") ?? .current,
            spool: URL(fileURLWithPath: "/var/spool/herold"), state: URL(fileURLWithPath: "/var/lib/herold"),
            templatesDirectory: directory.appendingPathComponent("templates", isDirectory: true),
            smtp: nil, webhooks: [:], recipients: [:], rules: [], calendar: [])
        guard let root, root.null == nil else { return config }
        guard let top = fields(root, at: "", known: Self.topLevelKeys) else { return config }

        if let node = top["timezone"], let text = string(node, at: "timezone") {
            if let zone = TimeZone(identifier: text), text.contains("/") || text == "UTC" {
                config.timezone = zone
            } else {
                let near = Suggestion.closest(to: text, in: TimeZone.knownTimeZoneIdentifiers)
                issue(node, "timezone: \"\(text)\" is not an IANA time zone name",
                      fix: near.map { "did you mean '\($0)'?" } ?? "write a name such as Europe/Warsaw")
            }
        }
        if let node = top["spool"], let url = path(node, at: "spool") { config.spool = url }
        if let node = top["state"], let url = path(node, at: "state") { config.state = url }
        if let node = top["limits"], let limits = fields(node, at: "limits", known: ["max_event_bytes"]),
           let bytes = limits["max_event_bytes"],
           let value = int(bytes, at: "limits.max_event_bytes", in: 1024...(256 << 20)) {
            config.maxEventBytes = value
        }
        if let node = top["smtp"] { config.smtp = readSMTP(node) }
        if let node = top["webhooks"] { config.webhooks = readWebhooks(node) }
        if let node = top["recipients"] { config.recipients = readRecipients(node) }
        if let node = top["attachments"] { config.attachments = readAttachments(node) }
        if let node = top["rules"] { readRules(node, into: &config) }
        if let node = top["calendar"] { config.calendar = readCalendar(node) }
        readScheduling(top["grace"], into: &config)
        readRetryAndShutdown(top, into: &config)
        readRetention(top, into: &config)
        if let node = top["notify"] { readNotify(node, into: &config) }
        if let node = top["metrics"] { config.metrics = readMetrics(node) }
        if let node = top["journal"] { config.journal = readJournal(node) }
        config.recipientDetails = recipientDetails
        config.lines = lines
        return config
    }

    // MARK: smtp

    /// `tls` defaults to `tls` for `smtps://`, to `none` for a relay on the loopback (127.0.0.0/8,
    /// ::1, localhost), and to `starttls` (required, never silently plain) for any other host,
    /// on any port (587 and 25 alike).
    func readSMTP(_ node: Node) -> SMTPConfig? {
        let known = ["url", "tls", "from", "username", "password_file", "outbox", "connect_timeout", "timeout"]
            + Self.smtpMessageKeys + Self.smtpRelayKeys
        guard let smtp = fields(node, at: "smtp", known: known, required: ["from"]) else { return nil }
        var ok = true
        var url: String?
        var scheme: String?
        var host: String?
        if let urlNode = smtp["url"], let text = string(urlNode, at: "smtp.url") {
            if let parsed = URLComponents(string: text), let s = parsed.scheme?.lowercased(), ["smtp", "smtps"].contains(s),
               let h = parsed.host, !h.isEmpty {
                if parsed.user != nil || parsed.password != nil {
                    issue(urlNode, "smtp.url: must not hold a user name or password",
                          fix: "use \"username:\" and \"password_file:\" instead")
                    ok = false
                } else if !(parsed.path.isEmpty || parsed.path == "/") || parsed.query != nil {
                    issue(urlNode, "smtp.url: \"\(text)\" must be only smtp://host:port or smtps://host:port",
                          fix: "remove the path or query")
                    ok = false
                } else {
                    url = text
                    scheme = s
                    host = h.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
                }
            } else {
                issue(urlNode, "smtp.url: \"\(text)\" is not an smtp:// or smtps:// URL with a host",
                      fix: "write e.g. smtp://127.0.0.1:25 or smtps://mail.example.org:465")
                ok = false
            }
        } else if smtp["url"] != nil {
            ok = false
        }

        var tls: SMTPConfig.TLSMode
        if scheme == "smtps" {
            tls = .tls
        } else if let host, LoopbackHost.contains(host) {
            tls = .none
        } else {
            tls = url == nil ? .none : .starttls
        }
        if let tlsNode = smtp["tls"], let text = string(tlsNode, at: "smtp.tls") {
            if let mode = SMTPConfig.TLSMode(rawValue: text) {
                tls = mode
                if let scheme, !RelayTLS.fits(scheme: scheme, implicitTLS: mode == .tls) {
                    if mode == .tls {
                        issue(tlsNode, "smtp.tls: \"tls\" (TLS from the first byte) needs an smtps:// URL, but smtp.url is smtp://",
                              fix: "write smtps://HOST:465 in url, or use tls: starttls")
                        ok = false
                    } else {
                        issue(tlsNode, "smtp.tls: \"\(text)\" needs an smtp:// URL, but smtp.url is smtps://",
                              fix: "use tls: tls with smtps://, or change url to smtp://HOST:587")
                        ok = false
                    }
                }
            } else {
                issue(tlsNode, "smtp.tls: \"\(text)\" is not one of none, starttls, tls",
                      fix: Suggestion.closest(to: text, in: ["none", "starttls", "tls"]).map { "did you mean '\($0)'?" }
                        ?? "write none, starttls or tls")
                ok = false
            }
        }

        var from: Mailbox?
        if let fromNode = smtp["from"], let text = string(fromNode, at: "smtp.from") {
            do {
                from = try Mailbox.parse(text)
            } catch {
                issue(fromNode, "smtp.from: \"\(text)\" is not a valid sender: \(error)",
                      fix: "write e.g. \"Powiadomienia <powiadomienia@example.org>\" in quotes")
            }
        }
        let username = smtp["username"].flatMap { string($0, at: "smtp.username") }
        let passwordFile = smtp["password_file"].flatMap { path($0, at: "smtp.password_file", credential: true) }
        let outbox = smtp["outbox"].flatMap { path($0, at: "smtp.outbox") }
        if smtp["username"] != nil, smtp["password_file"] == nil, smtp["token_file"] == nil {
            issue(section: "smtp", node, "smtp: username is set but password_file is not",
                  fix: "add \"password_file: secrets/smtp-password\" (a file holding only the password)")
            ok = false
        } else if smtp["password_file"] != nil, smtp["username"] == nil {
            issue(section: "smtp", node, "smtp: password_file is set but username is not", fix: "add \"username: ...\"")
            ok = false
        }
        if smtp["url"] == nil, smtp["outbox"] == nil {
            issue(section: "smtp", node, "smtp: neither url nor outbox is given, so email has nowhere to go",
                  fix: "add \"url: smtp://127.0.0.1:25\" for a relay, or \"outbox: ./outbox/mail\" to write .eml files")
            ok = false
        }
        let connectTimeout = smtp["connect_timeout"].flatMap { int($0, at: "smtp.connect_timeout", in: 1...600) }
        let timeout = smtp["timeout"].flatMap { int($0, at: "smtp.timeout", in: 1...3600) }
        guard ok, let from else { return nil }
        var config = SMTPConfig(url: url, tls: tls, from: from, username: username, passwordFile: passwordFile,
                                outbox: outbox, connectTimeout: connectTimeout ?? 10, timeout: timeout ?? 60)
        let extrasOK = readSMTPExtras(smtp, into: &config)
        let relayOK = readSMTPRelay(smtp, host: host, into: &config)
        return extrasOK && relayOK ? config : nil
    }

    // MARK: webhooks

    func readWebhooks(_ node: Node) -> [String: WebhookConfig] {
        guard let list = entries(node, at: "webhooks") else { return [:] }
        declaredWebhooks = list.map(\.0)
        var result: [String: WebhookConfig] = [:]
        let known = ["url", "secret_file", "allow_private", "outbox", "connect_timeout", "timeout"] + Self.webhookMessageKeys
        for (name, keyNode, value) in list {
            let base = "webhooks.\(name)"
            let validName = identifier(name, node: keyNode, at: base, what: "webhook")
            guard let hook = fields(value, at: base, known: known, required: ["url", "secret_file"]) else { continue }
            let allowPrivate = hook["allow_private"].flatMap { bool($0, at: "\(base).allow_private") } ?? false
            var url: String?
            if let urlNode = hook["url"], let text = string(urlNode, at: "\(base).url") {
                if let parsed = URLComponents(string: text), let s = parsed.scheme?.lowercased(), ["http", "https"].contains(s),
                   let host = parsed.host, !host.isEmpty {
                    if parsed.user != nil || parsed.password != nil {
                        issue(urlNode, "\(base).url: must not hold a user name or password",
                              fix: "the request is signed with secret_file; remove the credentials from the URL")
                    } else if !allowPrivate, Self.isPrivateLiteral(host) {
                        issue(urlNode, "\(base).url: \(host) is a loopback or private address, which is refused by default",
                              fix: "add \"allow_private: true\" under \"\(base)\" if this target is meant")
                    } else {
                        url = text
                    }
                } else {
                    issue(urlNode, "\(base).url: \"\(text)\" is not an http:// or https:// URL with a host",
                          fix: "write e.g. https://hooks.example.org/herold")
                }
            }
            let secret = hook["secret_file"].flatMap { path($0, at: "\(base).secret_file", credential: true) }
            let outbox = hook["outbox"].flatMap { path($0, at: "\(base).outbox") }
            let connectTimeout = hook["connect_timeout"].flatMap { int($0, at: "\(base).connect_timeout", in: 1...600) }
            let timeout = hook["timeout"].flatMap { int($0, at: "\(base).timeout", in: 1...3600) }
            if validName, let url, let secret {
                var config = WebhookConfig(name: name, url: url, secretFile: secret, allowPrivate: allowPrivate,
                                           outbox: outbox, connectTimeout: connectTimeout ?? 10, timeout: timeout ?? 30)
                if readWebhookExtras(hook, at: base, into: &config) { result[name] = config }
            }
        }
        return result
    }

    /// Literal addresses known to be internal; names are checked by the transport after DNS.
    static func isPrivateLiteral(_ rawHost: String) -> Bool {
        let host = rawHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if host == "localhost" || host.hasSuffix(".localhost") || host == "::1" || host == "::" { return true }
        if host.contains(":"), host.hasPrefix("fe80:") || host.hasPrefix("fc") || host.hasPrefix("fd") { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard octets.count == 4 else { return false }
        switch (octets[0], octets[1]) {
        case (0, _), (10, _), (127, _), (169, 254), (192, 168): return true
        case (172, 16...31), (100, 64...127): return true
        default: return false
        }
    }

    // MARK: recipients

    func readRecipients(_ node: Node) -> [String: [String]] {
        guard let list = entries(node, at: "recipients") else { return [:] }
        declaredLists = list.map(\.0)
        var result: [String: [String]] = [:]
        for (name, keyNode, value) in list {
            let base = "recipients.\(name)"
            if name.contains("@") {
                issue(keyNode, "\(base): a list name must not contain \"@\" (rules would read it as an address)",
                      fix: "name the list with letters, digits and '-', e.g. \"partners\"")
                continue
            }
            let validName = identifier(name, node: keyNode, at: base, what: "recipient list")
            guard let items = recipientItems(value, at: base) else { continue }
            var addresses: [String] = []
            var seen: Set<String> = []
            for (index, (text, itemNode, details)) in items.enumerated() {
                do {
                    let mailbox = try Mailbox.parse(text)
                    if let details { recipientDetails[mailbox.address.lowercased()] = details }
                    if !seen.insert(mailbox.address.lowercased()).inserted {
                        issue(itemNode, "\(base)[\(index)]: \(mailbox.address) is already in this list",
                              fix: "remove the repeated address; it would get the same email twice")
                    }
                    addresses.append(text)
                } catch {
                    issue(itemNode, "\(base)[\(index)]: \"\(text)\" is not a valid email address: \(error)",
                          fix: "write it as name@domain or \"Name <name@domain>\"")
                }
            }
            if validName { result[name] = addresses }
        }
        return result
    }
}
