import Foundation
import Yams

/// Walks the YAML node tree of one config file, collecting every issue instead of stopping
/// at the first, and remembering the line of each key it reads.
/// Lives only for one `ConfigLoader.load` call, on one thread.
final class ConfigReader {
    let file: String
    let directory: URL
    let environment: [String: String]
    private(set) var issues: [ConfigIssue] = []
    var lines: [String: Int] = [:]
    /// Position of each key read, so a problem with a whole section points at its key.
    private var keyMarks: [String: Mark] = [:]
    /// Names written under `recipients:` and `webhooks:`, valid or not, in file order.
    var declaredLists: [String] = []
    var declaredWebhooks: [String] = []
    /// Data of list entries written as maps, by lower-cased address.
    var recipientDetails: [String: RecipientDetails] = [:]

    init(file: String, directory: URL, environment: [String: String]) {
        self.file = file
        self.directory = directory
        self.environment = environment
    }

    // MARK: Issues

    func issue(_ node: Node?, _ message: String, fix: String? = nil) {
        let mark = node?.mark
        issues.append(ConfigIssue(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0,
                                  message: message, fix: fix))
    }

    func issue(at mark: Mark?, _ message: String, fix: String? = nil) {
        issues.append(ConfigIssue(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0,
                                  message: message, fix: fix))
    }

    /// Where the key owning `path` is written, else where `node` starts.
    func owner(_ path: String, _ node: Node) -> Mark? { keyMarks[path] ?? node.mark }

    /// Reports a problem with a whole section at the line of its key.
    func issue(section path: String, _ node: Node, _ message: String, fix: String? = nil) {
        issue(at: owner(path, node), message, fix: fix)
    }

    // MARK: Mappings

    /// A mapping's members by key, with the keys' positions.
    struct Fields {
        var node: Node
        var values: [String: Node] = [:]
        var keyMarks: [String: Mark] = [:]
        /// Keys in the order written.
        var order: [String] = []
        subscript(key: String) -> Node? { values[key] }
    }

    /// Reads a mapping with a fixed set of keys: reports unknown keys (with the closest known
    /// one), missing required keys and a non-mapping value.
    func fields(_ node: Node, at path: String, known: [String], required: [String] = []) -> Fields? {
        guard let raw = entries(node, at: path) else { return nil }
        var result = Fields(node: node)
        for (key, keyNode, value) in raw {
            guard known.contains(key) else {
                let place = path.isEmpty ? "top level" : "\"\(path)\""
                var fix = "remove it"
                if let near = Suggestion.closest(to: key, in: known) {
                    fix = "did you mean '\(near)'? (or remove it)"
                }
                issue(keyNode, "\(join(path, key)): unknown key \"\(key)\" in \(place); known keys: \(known.joined(separator: ", "))",
                      fix: fix)
                continue
            }
            result.values[key] = value
            result.keyMarks[key] = keyNode.mark
            result.order.append(key)
        }
        for key in required where result.values[key] == nil {
            issue(section: path, node, "\(path.isEmpty ? "" : path + ": ")missing required key \"\(key)\"",
                  fix: "add \"\(key): ...\"\(path.isEmpty ? " at the top level" : " under \"\(path)\"")")
        }
        return result
    }

    /// Reads a mapping whose keys are names chosen by the user (webhooks, recipient lists).
    func entries(_ node: Node, at path: String) -> [(String, Node, Node)]? {
        guard case .mapping(let mapping) = node else {
            issue(node, "\(label(path)) expected a mapping (key: value), found \(describe(node))",
                  fix: "write it as indented \"key: value\" lines")
            return nil
        }
        var result: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode, keyNode.null == nil, !scalar.string.isEmpty else {
                issue(keyNode, "\(label(path)) a key must be plain text, found \(describe(keyNode))",
                      fix: "use a name such as \"example-name\" as the key")
                continue
            }
            let key = scalar.string
            lines[join(path, key)] = keyNode.mark?.line
            keyMarks[join(path, key)] = keyNode.mark
            result.append((key, keyNode, value))
        }
        return result
    }

    // MARK: Scalars

    /// Non-empty text; numbers and booleans are taken as written.
    func string(_ node: Node, at path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            issue(node, "\(path): expected text, found \(describe(node))", fix: "write a single value after \"\(last(path)):\"")
            return nil
        }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        guard node.null == nil, !text.isEmpty else {
            issue(node, "\(path): the value is empty", fix: "write a value after \"\(last(path)):\" or remove the key")
            return nil
        }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            issue(node, "\(path): contains a line break or control character", fix: "write it on one line")
            return nil
        }
        return text
    }

    /// A whole decimal number within `range`.
    func int(_ node: Node, at path: String, in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
              let value = Int(scalar.string)
        else {
            issue(node, "\(path): expected a whole number, found \(describe(node))",
                  fix: "write a number from \(range.lowerBound) to \(range.upperBound), without quotes or units")
            return nil
        }
        guard range.contains(value) else {
            issue(node, "\(path): \(value) is out of range", fix: "use a number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    func bool(_ node: Node, at path: String) -> Bool? {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
              ["true", "false"].contains(scalar.string.lowercased()) else {
            issue(node, "\(path): expected true or false, found \(describe(node))", fix: "write true or false")
            return nil
        }
        return scalar.string.lowercased() == "true"
    }

    /// A list of texts; a single text is taken as a list of one.
    func stringList(_ node: Node, at path: String) -> [(String, Node)]? {
        if case .scalar = node, node.null == nil {
            return string(node, at: path).map { [($0, node)] }
        }
        guard case .sequence(let sequence) = node else {
            issue(node, "\(path): expected a list such as [a, b], found \(describe(node))", fix: "write the items as [a, b]")
            return nil
        }
        guard !sequence.isEmpty else {
            issue(node, "\(path): the list is empty", fix: "give at least one item")
            return nil
        }
        var result: [(String, Node)] = []
        for (index, item) in sequence.enumerated() {
            if let text = string(item, at: "\(path)[\(index)]") { result.append((text, item)) }
        }
        return result
    }

    func sequence(_ node: Node, at path: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            issue(node, "\(path): expected a list (lines starting with \"- \"), found \(describe(node))",
                  fix: "write each item on its own line starting with \"- \"")
            return nil
        }
        return Array(sequence)
    }

    /// A local time "HH:MM", as minutes after midnight.
    func timeOfDay(_ node: Node, at path: String) -> Int? {
        guard let text = string(node, at: path) else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
           parts.allSatisfy({ $0.allSatisfy(\.isASCII) }),
           let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute) {
            return hour * 60 + minute
        }
        issue(node, "\(path): \"\(text)\" is not a time of day", fix: "write it as \"HH:MM\" in quotes, from \"00:00\" to \"23:59\"")
        return nil
    }

    // MARK: Paths

    /// Resolves a path against the config file's folder. With `credential`, the forms
    /// `$CREDENTIALS_DIRECTORY/name`, `${CREDENTIALS_DIRECTORY}/name` and `%d/name` read systemd's folder.
    func path(_ node: Node, at path: String, credential: Bool = false) -> URL? {
        guard let text = string(node, at: path) else { return nil }
        for prefix in ["$CREDENTIALS_DIRECTORY/", "${CREDENTIALS_DIRECTORY}/", "%d/"] where text.hasPrefix(prefix) {
            let name = String(text.dropFirst(prefix.count))
            guard credential else {
                issue(node, "\(path): \"\(prefix.dropLast())\" is only understood in password_file and secret_file",
                      fix: "write a plain path, absolute or relative to the config file's folder")
                return nil
            }
            guard !name.isEmpty else {
                issue(node, "\(path): no credential name after \"\(prefix)\"", fix: "write e.g. \"\(prefix)smtp-password\"")
                return nil
            }
            guard let dir = environment["CREDENTIALS_DIRECTORY"], !dir.isEmpty else {
                issue(node, "\(path): \"\(text)\" needs the environment variable CREDENTIALS_DIRECTORY, which is not set",
                      fix: "run herold under systemd with LoadCredential=\(name):/path/to/file in the unit (systemd then sets CREDENTIALS_DIRECTORY), or set CREDENTIALS_DIRECTORY, or give a plain path")
                return nil
            }
            return URL(fileURLWithPath: dir, isDirectory: true).appendingPathComponent(name).standardizedFileURL
        }
        if text.hasPrefix("$") || text.hasPrefix("~") {
            issue(node, "\(path): \"\(text)\": environment variables and ~ are not expanded in paths",
                  fix: credential ? "write a plain path, or $CREDENTIALS_DIRECTORY/NAME for a systemd credential"
                                  : "write a plain path, absolute or relative to the config file's folder")
            return nil
        }
        if text.hasPrefix("/") { return URL(fileURLWithPath: text).standardizedFileURL }
        return directory.appendingPathComponent(text).standardizedFileURL
    }

    // MARK: Names

    /// A name that also becomes part of a file path or an id: ASCII letters, digits, `.`, `_`, `-`.
    func identifier(_ text: String, node: Node, at path: String, what: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-".unicodeScalars)
        if let first = text.unicodeScalars.first, first != ".", first != "-",
           text.unicodeScalars.allSatisfy({ allowed.contains($0) }) {
            return true
        }
        issue(node, "\(path): \"\(text)\" is not a valid \(what) name",
              fix: "use ASCII letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. \"partners-hub\")")
        return false
    }

    // MARK: Text helpers

    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping (key: value)"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            if node.null != nil { return "nothing (an empty value)" }
            return "\"\(scalar.string)\""
        }
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func label(_ path: String) -> String { path.isEmpty ? "top level:" : "\(path):" }

    private func last(_ path: String) -> String {
        let tail = path.split(separator: ".").last.map(String.init) ?? path
        return tail.split(separator: "[").first.map(String.init) ?? tail
    }
}
