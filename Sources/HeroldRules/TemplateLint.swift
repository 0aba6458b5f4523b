import HeroldConfig

/// Checks swift-mustache's parser does not make: misspelt helpers, multi-line subjects.
enum TemplateLint {
    /// Every `name(` in a tag whose name is not a known helper, with its line and column.
    static func unknownHelpers(in source: String, path: String) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        let known = TemplateHelpers.all
        let chars = Array(source)
        var line = 1
        var column = 1
        var i = 0
        while i < chars.count {
            if chars[i] == "{", i + 1 < chars.count, chars[i + 1] == "{" {
                let tagLine = line
                let tagColumn = column
                var j = i + 2
                var content = ""
                while j + 1 < chars.count, !(chars[j] == "}" && chars[j + 1] == "}") {
                    content.append(chars[j])
                    j += 1
                }
                var names: [String] = []
                var current = ""
                // Comments and delimiter changes are free text, not names.
                let isFreeText = content.first == "!" || content.first == "="
                for c in content where !isFreeText {
                    if c == "(" {
                        names.append(current)
                        current = ""
                    } else if c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." || c == "?" || c == "*" {
                        current.append(c)
                    } else {
                        current = ""
                    }
                }
                for name in names where !name.isEmpty && !known.contains(name) {
                    let suggestion = known.filter { $0.hasPrefix("pl_") }.sorted().joined(separator: ", ")
                    issues.append(ConfigIssue(file: path, line: tagLine, column: tagColumn,
                                              message: "unknown helper \"\(name)\"",
                                              fix: "use one of: \(suggestion) (or a swift-mustache transform)"))
                }
            }
            if chars[i] == "\n" || chars[i] == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
            i += 1
        }
        return issues
    }

    /// A line break inside a subject template (trailing ones, which editors add, are fine).
    static func lineBreak(in source: String, path: String) -> ConfigIssue? {
        var body = Substring(source)
        while let last = body.last, last.isNewline || last == " " || last == "\t" { body = body.dropLast() }
        guard let index = body.firstIndex(where: \.isNewline) else { return nil }
        let column = body.distance(from: body.startIndex, to: index) + 1
        return ConfigIssue(file: path, line: 1, column: column,
                           message: "the subject template spans more than one line; an email subject is one line",
                           fix: "put the whole subject on the first line")
    }
}
