import Foundation
import HeroldConfig
import HeroldCore

/// Every template the config's rules use, parsed and checked once at load.
public struct TemplateSet: Sendable {
    /// The files of an email template.
    public struct Email: Sendable {
        /// `subject.mustache`: one line after rendering.
        public var subject: CompiledTemplate
        /// `text.mustache`: the plain-text body.
        public var text: CompiledTemplate
        /// Optional `html.mustache` (checked; the integrator decides how to send it).
        public var html: CompiledTemplate?
    }

    /// Email templates by folder name.
    public private(set) var emails: [String: Email]
    /// `body.json.mustache` templates by folder name.
    public private(set) var webhookBodies: [String: CompiledTemplate]

    /// No templates: every templated action will be held.
    public init() {
        emails = [:]
        webhookBodies = [:]
    }

    /// What a file read gave.
    enum FileContents {
        case missing
        case unreadable(String)
        case text(String)
    }

    /// Reads and compiles every template the rules name from `config.templatesDirectory`.
    /// Throws every problem at once, each with file, line, column and a fix.
    public static func compile(config: HeroldConfig) throws(ConfigErrors) -> TemplateSet {
        try compile(config: config) { relative in
            let url = config.templatesDirectory.appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                return .missing
            }
            guard let data = FileManager.default.contents(atPath: url.path) else {
                return .unreadable("cannot be read (check its permissions)")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                return .unreadable("is not valid UTF-8 text; save it as UTF-8")
            }
            return .text(text)
        }
    }

    /// Compiles from memory: `files` maps `NAME/FILE` (e.g. `laureaci/subject.mustache`) to its text.
    public static func compile(config: HeroldConfig, files: [String: String]) throws(ConfigErrors) -> TemplateSet {
        try compile(config: config) { files[$0].map(FileContents.text) ?? .missing }
    }

    static func compile(config: HeroldConfig, read: (String) -> FileContents) throws(ConfigErrors) -> TemplateSet {
        var set = TemplateSet()
        var issues: [ConfigIssue] = []
        var emailNames: [String] = []
        var webhookNames: [String] = []
        for rule in config.rules {
            for action in rule.send {
                let name: String
                switch action {
                case .email(_, let template): name = template
                case .webhook(_, let template?): name = template
                case .webhook(_, nil): continue
                }
                guard isPlainName(name) else {
                    issues.append(ConfigIssue(file: config.file.path, line: rule.line,
                                              message: "rule \"\(rule.name)\": template name \"\(name)\" must be a plain folder name",
                                              fix: "use a name such as laureaci: letters, digits, - and _"))
                    continue
                }
                if case .email = action {
                    if !emailNames.contains(name) { emailNames.append(name) }
                } else if !webhookNames.contains(name) {
                    webhookNames.append(name)
                }
            }
        }

        func load(_ name: String, _ file: String, _ kind: CompiledTemplate.Kind, required: Bool) -> CompiledTemplate? {
            let relative = "\(name)/\(file)"
            let path = config.templatesDirectory.appendingPathComponent(relative).path
            switch read(relative) {
            case .missing:
                if required { issues += missing(relative, path: path, name: name, config: config) }
                return nil
            case .unreadable(let why):
                issues.append(ConfigIssue(file: path, line: 0, message: "template file \(why)"))
                return nil
            case .text(let source):
                do throws(ConfigErrors) {
                    let compiled = try CompiledTemplate(name: name, file: file, path: path, kind: kind, source: source)
                    issues += TemplateLint.unknownHelpers(in: source, path: path)
                    if file == "subject.mustache", let issue = TemplateLint.lineBreak(in: source, path: path) {
                        issues.append(issue)
                    }
                    return compiled
                } catch {
                    issues += error.issues
                    return nil
                }
            }
        }

        for name in emailNames {
            let subject = load(name, "subject.mustache", .text, required: true)
            let text = load(name, "text.mustache", .text, required: true)
            let html = load(name, "html.mustache", .html, required: false)
            if let subject, let text { set.emails[name] = Email(subject: subject, text: text, html: html) }
        }
        for name in webhookNames {
            if let body = load(name, "body.json.mustache", .json, required: true) { set.webhookBodies[name] = body }
        }
        if !issues.isEmpty { throw ConfigErrors(issues) }
        return set
    }

    /// A missing template file, reported at each `template:` key in herold.yaml that names it
    /// (or at the file itself when no reference is known).
    static func missing(_ relative: String, path: String, name: String, config: HeroldConfig) -> [ConfigIssue] {
        let kind: TemplateReference.Kind = relative.hasSuffix("/body.json.mustache") ? .webhook : .email
        let references = config.templateReferences.filter { $0.name == name && $0.kind == kind }
        guard !references.isEmpty else {
            return [ConfigIssue(file: path, line: 0, message: "template file is missing", fix: "create templates/\(relative)")]
        }
        let fix = "create templates/\(relative), or correct the template name"
        return references.map { reference in
            ConfigIssue(file: config.file.path, line: reference.line, column: reference.column,
                        message: "\(reference.path): rule \"\(reference.rule)\" uses template \"\(name)\", but \(path) is missing",
                        fix: fix)
        }
    }

    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.hasPrefix(".")
            && !name.contains("/") && !name.contains("\\") && !name.unicodeScalars.contains { $0.value < 0x20 }
    }
}
