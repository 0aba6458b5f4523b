import Foundation
import HeroldCore

/// The whole configuration, as read from `herold.yaml` and checked.
/// Relative paths are already resolved against the config file's folder.
public struct HeroldConfig: Sendable {
    /// The config file itself.
    public var file: URL
    /// IANA time zone for local times (`at:`, calendar). Default Europe/Warsaw.
    public var timezone: TimeZone
    /// Spool root (`tmp/`, `new/`, `rejected/`). Default /var/spool/herold.
    public var spool: URL
    /// State folder holding the SQLite journal. Default /var/lib/herold.
    public var state: URL
    /// `templates/` next to the config file.
    public var templatesDirectory: URL
    /// Largest event file accepted, in bytes (key `limits.max_event_bytes`, default 1 MiB).
    public var maxEventBytes: Int
    public var smtp: SMTPConfig?
    public var webhooks: [String: WebhookConfig]
    /// Named recipient lists: name -> addresses.
    public var recipients: [String: [String]]
    /// Data written with list entries in map form, by lower-cased address.
    public var recipientDetails: [String: RecipientDetails] = [:]
    /// `attachments:` (folders and size cap).
    public var attachments = AttachmentsConfig()
    public var rules: [Rule]
    public var calendar: [CalendarEntry]
    /// Every template a rule names, with where, so `herold check` can point at a missing one.
    public var templateReferences: [TemplateReference]
    /// Line (1-based) of each key read, by the path used in messages:
    /// `smtp.password_file`, `webhooks.partners-hub.secret_file`, `rules[0].send[1]`, `calendar[0].date`.
    public var lines: [String: Int]
    /// How late a missed send (herold was down) may still go out, in seconds (key `grace`, default 6h).
    public var grace: TimeInterval = 6 * 3600
    /// Backoff for transient failures (key `retry`): first 60s, max 1h, lifetime 5d, jitter 0.25.
    public var retry = RetryPolicy()
    /// How long SIGTERM waits for transfers in flight (key `shutdown_timeout`, default 30s)
    /// before leaving them in flight for the next start.
    public var shutdownTimeout: TimeInterval = 30
    /// How long personal data is kept (key `retention`: content 30d, records 365d, duplicates 730d).
    public var retention = RetentionPolicy()
    /// How recipients appear in log lines (key `log_recipients`: full, masked, hashed; default full).
    public var logRecipients = RecipientLogMode.full
    /// A summary of failures to an admin (key `notify`); nil: none.
    public var notify: NotifyConfig?
    /// `metrics:` — the Prometheus endpoint and/or textfile (off by default).
    public var metrics = MetricsConfig()
    /// `journal:` — SQLite in `state` (default) or a shared PostgreSQL database.
    public var journal = JournalConfig.sqlite

    public init(file: URL, timezone: TimeZone, spool: URL, state: URL, templatesDirectory: URL,
                maxEventBytes: Int = 1 << 20, smtp: SMTPConfig?, webhooks: [String: WebhookConfig],
                recipients: [String: [String]], rules: [Rule], calendar: [CalendarEntry],
                templateReferences: [TemplateReference] = [], lines: [String: Int] = [:]) {
        self.file = file
        self.timezone = timezone
        self.spool = spool
        self.state = state
        self.templatesDirectory = templatesDirectory
        self.maxEventBytes = maxEventBytes
        self.smtp = smtp
        self.webhooks = webhooks
        self.recipients = recipients
        self.rules = rules
        self.calendar = calendar
        self.templateReferences = templateReferences
        self.lines = lines
    }
}

/// A template named by a rule action, and where in the config file.
public struct TemplateReference: Sendable, Equatable {
    /// What the template must provide: an email needs `subject` + `text`, a webhook `body.json`.
    public enum Kind: String, Sendable, Equatable {
        case email
        case webhook
    }
    public var name: String
    public var kind: Kind
    /// Name of the rule that refers to it.
    public var rule: String
    /// Path of the key in messages, e.g. `rules[0].send[1].webhook.template`.
    public var path: String
    public var line: Int
    public var column: Int

    public init(name: String, kind: Kind, rule: String, path: String, line: Int, column: Int = 0) {
        self.name = name
        self.kind = kind
        self.rule = rule
        self.path = path
        self.line = line
        self.column = column
    }
}

/// How email leaves: a relay, or a folder (`outbox`) for trying herold without a server.
public struct SMTPConfig: Sendable, Equatable {
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        /// Plain text (only for a relay on the same host or a trusted network).
        case none
        /// STARTTLS, required: the connection fails rather than continue in plain text.
        case starttls
        /// Implicit TLS from the first byte (`smtps://`, port 465).
        case tls
    }
    /// `smtp://host:port` or `smtps://host:port`. Required unless `outbox` is set.
    public var url: String?
    public var tls: TLSMode
    /// The `From` header and envelope sender, e.g. `Powiadomienia ROPS <powiadomienia@example.org>`.
    public var from: Mailbox
    public var username: String?
    /// File holding the password (never the password itself in the config).
    public var passwordFile: URL?
    /// When set, each email is written here as the exact `.eml` bytes instead of being sent.
    public var outbox: URL?
    /// Seconds to connect, and for the whole transfer.
    public var connectTimeout: Int
    public var timeout: Int
    /// `auth:`; nil means PLAIN or LOGIN as the server offers, when `username` is set.
    public var auth: SMTPAuth?
    /// File holding an OAuth 2 access token, for `auth: xoauth2`.
    public var tokenFile: URL?
    /// `Reply-To` of every email.
    public var replyTo: Mailbox?
    /// `Sender` of every email (who sends on behalf of `from`).
    public var sender: Mailbox?
    /// SMTP sessions used at once (`max_connections`, default 1): messages wait and reuse them.
    public var maxConnections = 1
    /// A cached session idle longer than this (`idle_timeout`, default 50 s) is closed, not
    /// reused: below the 60 s many relays allow.
    public var idleTimeout = 50
    /// The EHLO name (`helo:`, a FQDN or an address literal); nil: the machine's name when it is
    /// fully qualified, else the domain of `from`.
    public var helo: String?
    /// A PEM file of CA certificates to trust instead of the system's (`ca_file:`, a private CA).
    public var caFile: URL?

    public init(url: String?, tls: TLSMode, from: Mailbox, username: String? = nil, passwordFile: URL? = nil,
                outbox: URL? = nil, connectTimeout: Int = 10, timeout: Int = 60) {
        self.url = url
        self.tls = tls
        self.from = from
        self.username = username
        self.passwordFile = passwordFile
        self.outbox = outbox
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }
}

/// A webhook endpoint that rules refer to by name.
public struct WebhookConfig: Sendable, Equatable {
    public var name: String
    /// `http://` or `https://` URL the POST goes to.
    public var url: String
    /// File holding the Standard Webhooks secret (`whsec_` + base64).
    public var secretFile: URL
    /// Allow loopback, private and link-local targets (default false).
    public var allowPrivate: Bool
    /// When set, each request is written here as exact HTTP/1.1 bytes instead of being sent.
    public var outbox: URL?
    public var connectTimeout: Int
    public var timeout: Int
    /// Extra headers sent with every request (`headers:`).
    public var headers: [ExtraHeader] = []
    /// The old secret during key rotation: requests carry a signature by each.
    public var previousSecretFile: URL?
    /// Requests to this endpoint at once (`max_connections`, default 8): its lane's width.
    public var maxConnections = 8

    public init(name: String, url: String, secretFile: URL, allowPrivate: Bool = false, outbox: URL? = nil,
                connectTimeout: Int = 10, timeout: Int = 30) {
        self.name = name
        self.url = url
        self.secretFile = secretFile
        self.allowPrivate = allowPrivate
        self.outbox = outbox
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }
}

/// A rule: which events it takes, and what it sends for them.
public struct Rule: Sendable, Equatable {
    public var name: String
    public var match: [MatchCondition]
    public var remind: Remind?
    public var send: [Action]
    /// Line of the rule in the config file, for messages.
    public var line: Int
    /// Options of `email:` actions, by index in `send`.
    public var emailOptions: [Int: EmailOptions] = [:]
    /// `max_recipients` / `allowed_domains` of `email:` actions that send to `data.FIELD`, by
    /// index in `send`; an action without them gets `EventRecipientLimits()` (20, any domain).
    public var recipientLimits: [Int: EventRecipientLimits] = [:]
    /// `not_after`: how long after the event's `time` (or its arrival, without one) its
    /// messages are still worth sending; later they expire instead (a greeting 12 days late).
    public var notAfter: TimeInterval?

    public init(name: String, match: [MatchCondition], remind: Remind? = nil, send: [Action], line: Int = 0) {
        self.name = name
        self.match = match
        self.remind = remind
        self.send = send
        self.line = line
    }
}

/// One test in a rule's `match`: an attribute path (`type`, `source`, `subject`,
/// `data.edition`, any extension) and what it must be.
public struct MatchCondition: Sendable, Equatable {
    public enum Test: Sendable, Equatable {
        /// Equal to one of these (scalars compared as text: `"9"` matches `9`).
        case oneOf([String])
        /// Present (true) or absent (false).
        case present(Bool)
    }
    public var path: String
    public var test: Test
    public init(path: String, test: Test) {
        self.path = path
        self.test = test
    }
}

/// What a rule sends.
public enum Action: Sendable, Equatable {
    /// One email per address; `to` holds list names or addresses, as written.
    case email(to: [String], template: String)
    /// One POST to the endpoint; with a template, `body.json.mustache` gives the body.
    case webhook(endpoint: String, template: String?)
}

/// `remind: { field: data.deadline, before: [14d, 7d, 1d], at: "09:00" }`
public struct Remind: Sendable, Equatable {
    /// Path of the date or date-time in the event.
    public var field: String
    /// How long before the date each reminder goes out, in whole days.
    public var beforeDays: [Int]
    /// Local time of day to send, minutes after midnight.
    public var atMinutes: Int
    /// Moves a send day that is a weekend day or a Polish public holiday (key `shift`).
    public var shift: WorkdayShift = .none
    public init(field: String, beforeDays: [Int], atMinutes: Int, shift: WorkdayShift = .none) {
        self.field = field
        self.beforeDays = beforeDays
        self.atMinutes = atMinutes
        self.shift = shift
    }
}

/// A yearly date on which herold emits an event of its own.
public struct CalendarEntry: Sendable, Equatable {
    public var name: String
    public var month: Int
    public var day: Int
    /// Local time of day, minutes after midnight.
    public var atMinutes: Int
    /// The CloudEvents `type` of the emitted event.
    public var type: String
    /// Extra `data` members for the emitted event (herold adds `year`).
    public var data: [String: JSONValue]
    /// Moves an occurrence on a weekend day or a Polish public holiday (key `shift`).
    public var shift: WorkdayShift = .none
    public init(name: String, month: Int, day: Int, atMinutes: Int, type: String, data: [String: JSONValue] = [:],
                shift: WorkdayShift = .none) {
        self.shift = shift
        self.name = name
        self.month = month
        self.day = day
        self.atMinutes = atMinutes
        self.type = type
        self.data = data
    }
}

/// One problem in the configuration or its templates, with where and what to do.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 when the problem has no line (e.g. a missing file).
    public var line: Int
    public var column: Int
    public var message: String
    /// What to do about it.
    public var fix: String?

    public init(file: String, line: Int, column: Int = 0, message: String, fix: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.fix = fix
    }

    public var description: String {
        var s = file
        if line > 0 { s += ":\(line)" }
        if column > 0 { s += ":\(column)" }
        s += ": error: \(message)"
        if let fix { s += "\n    fix: \(fix)" }
        return s
    }
}

/// Every problem found; thrown by the loader and by template compilation.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]
    public init(_ issues: [ConfigIssue]) { self.issues = issues }
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
