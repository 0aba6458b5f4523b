import Foundation
import HeroldCore
import Yams

extension ConfigReader {
    static let journalKeys = ["url", "password_file", "tls", "ca_file", "node", "lease"]

    /// `journal: postgresql://USER@HOST:PORT/DB`, or a mapping with `url` and the options.
    /// `tls` defaults to `none` on the loopback and `require` anywhere else; plain text to
    /// another machine is refused (the journal holds every message to every person).
    func readJournal(_ node: Node) -> JournalConfig {
        if case .scalar = node {
            guard let text = string(node, at: "journal") else { return .sqlite }
            return postgres(url: text, node: node, fields: nil).map(JournalConfig.postgresql) ?? .sqlite
        }
        guard let fields = fields(node, at: "journal", known: Self.journalKeys, required: ["url"]),
              let urlNode = fields["url"], let text = string(urlNode, at: "journal.url") else { return .sqlite }
        return postgres(url: text, node: urlNode, fields: fields).map(JournalConfig.postgresql) ?? .sqlite
    }

    private func postgres(url text: String, node: Node, fields: Fields?) -> PostgresJournalConfig? {
        let path = fields == nil ? "journal" : "journal.url"
        let parts: (host: String, port: Int, username: String, database: String)
        switch PostgresJournalConfig.parse(url: text) {
        case .success(let parsed): parts = parsed
        case .failure(let problem):
            let (message, fix) = Self.describe(problem)
            issue(node, "\(path): \"\(Self.withoutPassword(text))\" \(message)", fix: fix)
            return nil
        }
        let loopback = LoopbackHost.contains(parts.host)
        var config = PostgresJournalConfig(host: parts.host, port: parts.port, username: parts.username,
                                           database: parts.database, tls: loopback ? .none : .require)
        guard let fields else { return config }
        var ok = true
        if let value = fields["password_file"] {
            config.passwordFile = self.path(value, at: "journal.password_file", credential: true)
            ok = ok && config.passwordFile != nil
        }
        if let value = fields["tls"], let mode = string(value, at: "journal.tls") {
            if let parsed = PostgresJournalConfig.TLSMode(rawValue: mode) {
                config.tls = parsed
            } else {
                issue(value, "journal.tls: \"\(mode)\" is not a TLS mode", fix: "write require (verified TLS) or none (loopback only)")
                ok = false
            }
        }
        if config.tls == .none, !loopback {
            issue(fields["tls"] ?? node, "journal.tls: none would send every message to every person unencrypted to \(parts.host)",
                  fix: "use tls: require (the server's certificate is verified; ca_file for a private CA); plain text is allowed only to 127.0.0.1, ::1 or localhost")
            ok = false
        }
        if let value = fields["ca_file"] {
            config.caFile = self.path(value, at: "journal.ca_file")
            if config.caFile == nil { ok = false }
            if config.tls == .none {
                issue(value, "journal.ca_file is only used with TLS, but journal.tls is none", fix: "set tls: require, or remove ca_file")
                ok = false
            }
        }
        if let value = fields["node"], let name = string(value, at: "journal.node") {
            if identifier(name, node: value, at: "journal.node", what: "node") { config.node = name } else { ok = false }
        }
        if let value = fields["lease"] {
            if let seconds = duration(value, at: "journal.lease", in: 10...3600) { config.lease = seconds } else { ok = false }
        }
        return ok ? config : nil
    }

    private static func describe(_ problem: PostgresJournalConfig.URLProblem) -> (String, String) {
        let example = "write e.g. postgresql://herold@db.example.org:5432/herold"
        switch problem {
        case .scheme: return ("is not a postgresql:// URL", example + " (SQLite in the state folder needs no journal key)")
        case .password: return ("holds a password", "remove it from the URL and write it into a file named by journal.password_file")
        case .user: return ("names no user", example)
        case .host: return ("names no host", example)
        case .port: return ("has a port outside 1 to 65535", example)
        case .database: return ("names no database (the path after the port)", example)
        case .query: return ("has options after '?', which herold does not read", "remove them; use journal.tls, journal.ca_file and journal.password_file")
        }
    }

    /// The URL with any password replaced, so a config error never prints it.
    static func withoutPassword(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }
}
