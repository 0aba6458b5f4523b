import Foundation
import PostgresNIO

/// Where the shared journal is: `postgresql://USER@HOST:PORT/DB`, the password given apart
/// (from a file, never in the URL), and whether to use TLS.
public struct PostgresJournalSettings: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is protected.
    public enum TLS: Sendable, Equatable {
        /// Plain TCP (a server on the same host or a private network).
        case disable
        /// TLS with the server's certificate verified: against `caFile` (PEM) when given,
        /// else against the system's trusted roots.
        case require(caFile: String?)
    }

    public var host: String
    public var port: Int
    public var username: String
    /// Never printed; nil for `trust` or peer authentication.
    public var password: String?
    public var database: String
    public var tls: TLS

    public init(host: String, port: Int = 5432, username: String, password: String? = nil,
                database: String, tls: TLS = .disable) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// The URL without the password, for messages and logs.
    public var description: String {
        var text = "postgresql://\(username)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
        switch tls {
        case .disable: break
        case .require(nil): text += "?sslmode=require"
        case .require(let caFile?): text += "?sslmode=require&sslrootcert=\(caFile)"
        }
        return text
    }

    /// A URL that is not a usable journal address, with the reason.
    public struct URLError: Error, Sendable, Equatable, CustomStringConvertible {
        public var url: String
        public var reason: String
        public var description: String { "journal \(url): \(reason)" }
    }

    /// Reads `postgresql://USER@HOST[:PORT]/DB` (also `postgres://`), with the optional
    /// libpq parameters `sslmode=disable|require` and `sslrootcert=PATH`. A password in the
    /// URL is refused (it would show in `ps`, configs and logs): give it as `password`.
    public static func parse(url text: String, password: String? = nil) throws(URLError) -> PostgresJournalSettings {
        var shown = URLComponents(string: text)
        shown?.password = nil
        let safeText = shown?.string ?? "(not a URL)"
        func fail(_ reason: String) -> URLError { URLError(url: safeText, reason: reason) }
        guard let url = URLComponents(string: text) else { throw fail("not a URL") }
        guard url.scheme == "postgresql" || url.scheme == "postgres" else {
            throw fail("the scheme must be postgresql://")
        }
        guard url.password == nil else {
            throw fail("a password does not belong in the URL; give it in a file (password_file or $CREDENTIALS_DIRECTORY)")
        }
        guard let user = url.user, !user.isEmpty else { throw fail("the user is missing (postgresql://USER@HOST:PORT/DB)") }
        guard let host = url.host, !host.isEmpty else { throw fail("the host is missing") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw fail("the database name is missing (…/DB)") }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw fail("the port must be 1 to 65535") }
        var mode = "disable", caFile: String?
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode": mode = item.value ?? ""
            case "sslrootcert": caFile = item.value
            default: throw fail("unknown parameter \(item.name) (known: sslmode, sslrootcert)")
            }
        }
        let tls: TLS
        switch mode {
        case "disable": tls = .disable
        case "require", "verify-full": tls = .require(caFile: caFile)
        default: throw fail("sslmode must be disable or require, not \(mode)")
        }
        if case .disable = tls, caFile != nil { throw fail("sslrootcert needs sslmode=require") }
        return PostgresJournalSettings(host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port,
                                       username: user.removingPercentEncoding ?? user, password: password,
                                       database: database.removingPercentEncoding ?? database, tls: tls)
    }

    /// The same server, another database (tests make one per test).
    public func with(database: String) -> PostgresJournalSettings {
        var copy = self
        copy.database = database
        return copy
    }

    /// postgres-nio's configuration; reads the CA file for TLS.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let nioTLS: PostgresConnection.Configuration.TLS
        switch tls {
        case .disable:
            nioTLS = .disable
        case .require(let caFile):
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            if let caFile { configuration.trustRoots = .file(caFile) }
            nioTLS = .require(try NIOSSLContext(configuration: configuration))
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: username,
                                                             password: password, database: database, tls: nioTLS)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }
}
