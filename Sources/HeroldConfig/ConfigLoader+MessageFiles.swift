import Foundation

extension ConfigLoader {
    /// Files the message options name: attachment folders and the files rules attach, the
    /// OAuth token file. Missing ones are found by `herold check`, not at send time.
    static func checkMessageFiles(_ config: HeroldConfig) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        let file = config.file.path
        let fm = FileManager.default
        for (index, root) in config.attachments.roots.enumerated() {
            var isDirectory: ObjCBool = false
            if !fm.fileExists(atPath: root.path, isDirectory: &isDirectory) || !isDirectory.boolValue {
                issues.append(ConfigIssue(file: file, line: config.lines["attachments.roots"] ?? 0,
                                          message: "attachments.roots[\(index)]: \(root.path) is not a folder",
                                          fix: "create it (mkdir -p \(root.path)) or correct the path"))
            }
        }
        for (ruleIndex, rule) in config.rules.enumerated() {
            for (actionIndex, options) in rule.emailOptions.sorted(by: { $0.key < $1.key }) {
                for name in options.attach where !config.attachments.roots.contains(where: {
                    fm.fileExists(atPath: $0.appendingPathComponent(name).path)
                }) {
                    let path = "rules[\(ruleIndex)].send[\(actionIndex)]"
                    issues.append(ConfigIssue(file: file, line: config.lines[path] ?? 0,
                                              message: "\(path).email.attach: \"\(name)\" is in none of attachments.roots",
                                              fix: "put the file into \(config.attachments.roots.first?.path ?? "an attachments folder") or correct the name"))
                }
            }
        }
        if let token = config.smtp?.tokenFile {
            let text = (try? String(contentsOf: token, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if text?.isEmpty ?? true {
                issues.append(ConfigIssue(file: file, line: config.lines["smtp.token_file"] ?? 0,
                                          message: "smtp.token_file: \(token.path) is missing, unreadable or empty",
                                          fix: "let the token helper write the OAuth access token there (herold reads it for every message)"))
            }
        }
        return issues
    }
}
