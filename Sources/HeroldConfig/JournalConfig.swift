import Foundation

/// `journal:` — where the journal lives. SQLite in the `state` folder is the embedded
/// default; `postgresql://USER@HOST:PORT/DB` shares one journal between several nodes.
public enum JournalConfig: Sendable, Equatable {
    /// SQLite in `state` (the default).
    case sqlite
    /// A PostgreSQL database shared by the nodes.
    case postgresql(PostgresJournalConfig)

    public var postgresql: PostgresJournalConfig? {
        if case .postgresql(let settings) = self { return settings }
        return nil
    }
}

/// `journal: { url: postgresql://herold@db.example.org:5432/herold, password_file: …, tls: require,
/// ca_file: …, node: herold-a, lease: 60s }` (or the URL alone).
public struct PostgresJournalConfig: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Equatable {
        /// Plain TCP: allowed only to the loopback.
        case none
        /// TLS with the server's certificate and name verified (`ca_file`, or the system's CAs).
        case require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var database: String
    /// File holding the password (never the password itself in the config); nil for trust or
    /// peer authentication.
    public var passwordFile: URL?
    public var tls: TLSMode
    public var caFile: URL?
    /// This node's name in the journal (who holds what); default: the host name.
    public var node: String?
    /// How long a claimed delivery stays this node's without renewal; after that, another node
    /// may take it up (with the same delivery id).
    public var lease: TimeInterval = 60

    public init(host: String, port: Int = 5432, username: String, database: String, passwordFile: URL? = nil,
                tls: TLSMode, caFile: URL? = nil, node: String? = nil, lease: TimeInterval = 60) {
        self.host = host
        self.port = port
        self.username = username
        self.database = database
        self.passwordFile = passwordFile
        self.tls = tls
        self.caFile = caFile
        self.node = node
        self.lease = lease
    }

    /// The URL without a password, for messages and `status`.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(username)@\(shownHost):\(port)/\(database)"
    }

    /// What is wrong with a `postgresql://USER@HOST[:PORT]/DB` URL, or the parts.
    public static func parse(url text: String) -> Result<(host: String, port: Int, username: String, database: String), URLProblem> {
        guard let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "postgresql" || scheme == "postgres" else {
            return .failure(.scheme)
        }
        if components.password != nil { return .failure(.password) }
        guard let user = components.user, !user.isEmpty else { return .failure(.user) }
        guard let host = components.host, !host.isEmpty else { return .failure(.host) }
        if let query = components.query, !query.isEmpty { return .failure(.query) }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { return .failure(.port) }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { return .failure(.database) }
        return .success((host.trimmingCharacters(in: ["[", "]"]), port, user.removingPercentEncoding ?? user,
                         database.removingPercentEncoding ?? database))
    }

    public enum URLProblem: Error, Equatable {
        case scheme, password, user, host, port, database, query
    }
}
