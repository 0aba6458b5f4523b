import Foundation
import HeroldConfig
import HeroldCore
import Mustache

/// One parsed template file, ready to render.
public struct CompiledTemplate: Sendable {
    /// What the file renders, which decides how values are escaped.
    public enum Kind: Sendable, Equatable {
        /// `subject.mustache`, `text.mustache`: plain text, nothing escaped.
        case text
        /// `html.mustache`: values HTML-escaped.
        case html
        /// `body.json.mustache`: values JSON-string-escaped.
        case json
    }

    /// The template's folder name, e.g. `laureaci`.
    public let name: String
    /// The file name, e.g. `subject.mustache`.
    public let file: String
    /// Full path, for messages.
    public let path: String
    /// How values are escaped when it renders.
    public let kind: Kind
    let template: MustacheTemplate

    /// `laureaci/subject.mustache`, as reasons name it.
    public var label: String { "\(name)/\(file)" }

    // swift-mustache escapes HTML unless the template says otherwise; the pragma on a
    // line of its own is a standalone tag, so it leaves no trace in the output.
    static let textPragma = "{{% CONTENT_TYPE: TEXT}}\n"

    /// Parses `source`; the error carries the line and column in `source` itself.
    init(name: String, file: String, path: String, kind: Kind, source: String) throws(ConfigErrors) {
        self.name = name
        self.file = file
        self.path = path
        self.kind = kind
        let prefixed = kind == .html ? source : Self.textPragma + source
        do {
            self.template = try MustacheTemplate(string: prefixed)
        } catch let error as MustacheTemplate.ParserError {
            let shift = kind == .html ? 0 : 1
            let (message, fix) = Self.explain(error.error)
            throw ConfigErrors([ConfigIssue(file: path, line: max(1, error.context.lineNumber - shift),
                                            column: error.context.columnNumber, message: message, fix: fix)])
        } catch {
            throw ConfigErrors([ConfigIssue(file: path, line: 0, message: "cannot parse the template: \(error)")])
        }
    }

    static func explain(_ error: Error) -> (String, String) {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect?:
            return ("a section is closed with a different name than it was opened with",
                    "close {{#name}} or {{^name}} with {{/name}} of the same name, innermost first")
        case .unfinishedName?:
            return ("a tag is not closed, or its name has characters other than letters, digits and . _ - ( )",
                    "end the tag with }} and use names such as data.contest or pl_data(data.deadline)")
        case .expectedSectionEnd?:
            return ("a section is opened but never closed",
                    "add {{/name}} for every {{#name}} and {{^name}}")
        case .invalidSetDelimiter?:
            return ("the set-delimiter tag is malformed", "write it as {{=<% %>=}}")
        case .invalidConfigVariableSyntax?, .unrecognisedConfigVariable?:
            return ("unknown pragma tag {{% … }}", "remove it; herold sets the content type itself")
        case .transformAppliedToInheritanceSection?, .illegalTokenInsideInheritSection?, .textInsideInheritSection?:
            return ("template inheritance blocks are used wrongly", "herold templates need no partials or inheritance; remove {{< }} and {{$ }}")
        case nil:
            return ("the template ends in the middle of a tag", "close every {{ with }}")
        }
    }

    /// Renders with `context`; the output, or what went wrong during rendering.
    func render(_ context: TemplateContext) -> Result<String, TemplateFailure> {
        let env = RenderEnvironment(escaping: kind == .json ? .json : .none, timeZone: context.timeZone)
        let output = template.render(env.wrap(context.root))
        if let problem = env.problems.first {
            return .failure(TemplateFailure(template: label, message: problem))
        }
        return .success(output)
    }
}

/// Why a template did not give a usable result: held, never sent half-done.
public struct TemplateFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// `laureaci/subject.mustache`
    public var template: String
    /// What went wrong, in words an operator can act on.
    public var message: String
    /// `template laureaci/subject.mustache: …`, as a held delivery's reason.
    public var description: String { "template \(template): \(message)" }
}
