import Foundation
import Yams

/// Reads and checks `herold.yaml`, reporting every problem with file, line and a fix.
public enum ConfigLoader {
    /// Loads the config file at `path`; relative paths inside resolve against its folder.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigErrors) -> HeroldConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigErrors([unreadable(path: path, error: error)])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors([ConfigIssue(file: path, line: 0, message: "the file is not valid UTF-8 text",
                                            fix: "save it as UTF-8")])
        }
        return try load(text: text, file: path, environment: environment)
    }

    /// Loads config text as if read from `file` (used in messages and to resolve relative paths).
    public static func load(
        text: String, file: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigErrors) -> HeroldConfig {
        let fileURL = URL(fileURLWithPath: file).standardizedFileURL
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigErrors(syntaxIssues(error, text: text, file: file))
        }
        let reader = ConfigReader(file: file, directory: fileURL.deletingLastPathComponent(), environment: environment)
        let config = reader.readConfig(root: root, fileURL: fileURL)
        guard reader.issues.isEmpty else {
            throw ConfigErrors(reader.issues.enumerated()
                .sorted { ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset) }
                .map(\.element))
        }
        return config
    }

    private static func unreadable(path: String, error: any Error) -> ConfigIssue {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            return ConfigIssue(file: path, line: 0, message: "the config file does not exist",
                               fix: "create it (the example is Config/herold.yaml in the herold sources), or pass --config PATH")
        }
        if isDirectory.boolValue {
            return ConfigIssue(file: path, line: 0, message: "this is a folder, not a config file",
                               fix: "pass the path of herold.yaml itself with --config PATH")
        }
        let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
        return ConfigIssue(file: path, line: 0, message: "the config file cannot be read: \(reason)",
                           fix: "make it readable by the user herold runs as (e.g. chmod 640 and chgrp herold)")
    }

    /// YAML syntax errors, at the position libyaml reports.
    static func syntaxIssues(_ error: any Error, text: String, file: String) -> [ConfigIssue] {
        let fix = "correct the YAML syntax at this point (indent with spaces, quote values containing \": \" or \"#\")"
        guard let yaml = error as? YamlError else {
            return [ConfigIssue(file: file, line: 0, message: "cannot read YAML: \(error)", fix: fix)]
        }
        switch yaml {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            var message = "YAML syntax: \(problem)"
            if let context { message += " (\(context.text), line \(context.mark.line))" }
            return [ConfigIssue(file: file, line: mark.line, column: mark.column, message: message, fix: fix)]
        case let .reader(problem, offset, _, _):
            var line = 0, column = 0
            if let offset {
                let prefix = text.utf8.prefix(offset)
                line = prefix.filter { $0 == UInt8(ascii: "\n") }.count + 1
                column = prefix.reversed().prefix { $0 != UInt8(ascii: "\n") }.count + 1
            }
            return [ConfigIssue(file: file, line: line, column: column, message: "YAML: \(problem)",
                                fix: "remove control characters and save the file as UTF-8")]
        case let .duplicatedKeysInMapping(duplicates, context):
            return duplicates.map { key in
                let (line, column) = secondOccurrence(of: key, after: context.mark, in: text)
                    ?? (context.mark.line, context.mark.column)
                return ConfigIssue(file: file, line: line, column: column,
                                   message: "key \"\(key)\" appears more than once in the same mapping (first on line \(context.mark.line))",
                                   fix: "keep one \"\(key):\" and merge or remove the others")
            }
        default:
            return [ConfigIssue(file: file, line: 0, message: "cannot read YAML: \(yaml)", fix: fix)]
        }
    }

    /// Yams reports a duplicate key at its first occurrence; the later one is usually the
    /// mistake, so look for the next line that starts with the same key at the same column.
    private static func secondOccurrence(of key: String, after first: Mark, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        let indent = first.column - 1
        for number in first.line..<lines.count {
            let line = lines[number]
            let body = line.drop(while: { $0 == " " || $0 == "-" })
            let column = line.count - body.count
            if body.isEmpty || body.hasPrefix("#") { continue }
            if column < indent { return nil }
            guard column == indent else { continue }
            for form in [key, "\"\(key)\"", "'\(key)'"] where body.hasPrefix(form) {
                if body.dropFirst(form.count).drop(while: { $0 == " " }).hasPrefix(":") {
                    return (number + 1, column + 1)
                }
            }
        }
        return nil
    }
}
