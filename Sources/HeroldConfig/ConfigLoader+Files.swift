import Foundation

extension ConfigLoader {
    /// Checks the files the config names (the loader never reads them): each exists and is
    /// readable, a CA file holds a PEM certificate, and with `secrets` the secret files pass
    /// `readSecrets` (a daemon leaves them out here: its transport reads them, once).
    public static func checkFiles(_ config: HeroldConfig, secrets: Bool = true) -> [ConfigIssue] {
        var issues: [ConfigIssue] = secrets ? readSecrets(config).issues : []
        let file = config.file.path
        if let postgres = config.journal.postgresql, let passwordFile = postgres.passwordFile {
            let line = config.lines["journal.password_file"] ?? 0
            if let text = readSecret(passwordFile, key: "journal.password_file", file: file, line: line, into: &issues),
               text.isEmpty {
                issues.append(ConfigIssue(file: file, line: line, message: "journal.password_file: \(passwordFile.path) is empty",
                                          fix: "write the PostgreSQL password into it (only the password, one line)"))
            }
        }
        if let caFile = config.journal.postgresql?.caFile {
            let line = config.lines["journal.ca_file"] ?? 0
            if let text = readSecret(caFile, key: "journal.ca_file", file: file, line: line, into: &issues),
               !text.contains("-----BEGIN CERTIFICATE-----") {
                issues.append(ConfigIssue(file: file, line: line, message: "journal.ca_file: \(caFile.path) holds no PEM certificate",
                                          fix: "point it at the database server's CA certificate in PEM form (-----BEGIN CERTIFICATE-----)"))
            }
        }
        if let caFile = config.smtp?.caFile {
            let line = config.lines["smtp.ca_file"] ?? 0
            if let text = readSecret(caFile, key: "smtp.ca_file", file: file, line: line, into: &issues),
               !text.contains("-----BEGIN CERTIFICATE-----") {
                issues.append(ConfigIssue(file: file, line: line, message: "smtp.ca_file: \(caFile.path) holds no PEM certificate",
                                          fix: "point it at the relay's CA certificate in PEM form (-----BEGIN CERTIFICATE-----)"))
            }
        }
        issues += checkMessageFiles(config)
        return issues.sorted { $0.line < $1.line }
    }

    /// Why `text` is not a usable Standard Webhooks secret, or nil when it is.
    static func secretProblem(_ text: String) -> String? {
        guard text.hasPrefix("whsec_") else { return "does not start with \"whsec_\"" }
        guard let key = Data(base64Encoded: String(text.dropFirst(6))) else {
            return "is not \"whsec_\" followed by base64"
        }
        guard key.count >= 24 else { return "holds a key of \(key.count) bytes; at least 24 are needed" }
        return nil
    }

    /// The file's text without surrounding whitespace, or nil after recording why it cannot be read.
    static func readSecret(_ url: URL, key: String, file: String, line: Int,
                                   into issues: inout [ConfigIssue]) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            issues.append(ConfigIssue(file: file, line: line, message: "\(key): \(url.path) does not exist",
                                      fix: "create the file, or correct the path (relative paths start at the config file's folder)"))
            return nil
        }
        guard !isDirectory.boolValue else {
            issues.append(ConfigIssue(file: file, line: line, message: "\(key): \(url.path) is a folder, not a file",
                                      fix: "point it at the file holding the secret"))
            return nil
        }
        guard FileManager.default.isReadableFile(atPath: url.path), let data = try? Data(contentsOf: url) else {
            issues.append(ConfigIssue(file: file, line: line, message: "\(key): \(url.path) cannot be read",
                                      fix: "let the user herold runs as read it (e.g. chgrp herold and chmod 640), or use a systemd credential"))
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            issues.append(ConfigIssue(file: file, line: line, message: "\(key): \(url.path) is not UTF-8 text",
                                      fix: "write the secret as text"))
            return nil
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
