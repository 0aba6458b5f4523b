import Foundation

/// `attachments:` — the folders files may be attached from, and the size cap.
public struct AttachmentsConfig: Sendable, Equatable {
    /// Allowed folders (resolved, symlinks included); a path must stay inside one of them.
    public var roots: [URL]
    /// Largest file attached, in bytes (default 10 MiB).
    public var maxBytes: Int

    public init(roots: [URL] = [], maxBytes: Int = 10 << 20) {
        self.roots = roots
        self.maxBytes = maxBytes
    }
}

/// How herold logs in to the SMTP relay (`smtp.auth`).
public enum SMTPAuth: String, Sendable, Equatable, CaseIterable {
    /// AUTH PLAIN with `username` and `password_file`.
    case plain
    /// AUTH LOGIN with `username` and `password_file`.
    case login
    /// AUTH XOAUTH2 with `username` and an OAuth 2 access token read from `token_file`.
    case xoauth2
}

/// What a recipient list entry carries besides its address (`recipients.LIST[n]` as a mapping).
public struct RecipientDetails: Sendable, Equatable {
    /// Display name for `To` and `{{recipient.name}}`.
    public var name: String?
    /// `{{recipient.institution}}`.
    public var institution: String?
    /// Form of address, e.g. "Szanowna Pani Dyrektor": `{{recipient.salutation}}`.
    public var salutation: String?
    /// Any other text fields written, by key.
    public var extra: [String: String]

    public init(name: String? = nil, institution: String? = nil, salutation: String? = nil, extra: [String: String] = [:]) {
        self.name = name
        self.institution = institution
        self.salutation = salutation
        self.extra = extra
    }

    /// The fields as the template sees them under `recipient.*`.
    public var templateFields: [String: String] {
        var out = extra
        if let name { out["name"] = name }
        if let institution { out["institution"] = institution }
        if let salutation { out["salutation"] = salutation }
        return out
    }
}

/// Options of one `email:` action beyond `to` and `template`.
public struct EmailOptions: Sendable, Equatable {
    /// Files to attach, relative to an `attachments.roots` folder.
    public var attach: [String]
    /// `List-Unsubscribe` value, e.g. `<mailto:wypisz@example.org>`.
    public var listUnsubscribe: String?

    public init(attach: [String] = [], listUnsubscribe: String? = nil) {
        self.attach = attach
        self.listUnsubscribe = listUnsubscribe
    }
}

/// An extra HTTP header sent to one webhook endpoint.
public struct ExtraHeader: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
