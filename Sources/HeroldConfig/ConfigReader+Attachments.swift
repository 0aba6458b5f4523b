import Foundation
import Yams

extension ConfigReader {
    /// `attachments: { roots: [./zalaczniki], max_bytes: 10485760 }`
    func readAttachments(_ node: Node) -> AttachmentsConfig {
        var result = AttachmentsConfig()
        guard let section = fields(node, at: "attachments", known: ["roots", "max_bytes"], required: ["roots"]) else {
            return result
        }
        if let rootsNode = section["roots"], let items = stringList(rootsNode, at: "attachments.roots") {
            for (index, (_, itemNode)) in items.enumerated() {
                if let url = path(itemNode, at: "attachments.roots[\(index)]") { result.roots.append(url) }
            }
        }
        if let bytes = section["max_bytes"], let value = int(bytes, at: "attachments.max_bytes", in: 1...(512 << 20)) {
            result.maxBytes = value
        }
        return result
    }

    /// `attach: [program.pdf]` and `list_unsubscribe: "<mailto:...>"` of an email action.
    func readEmailOptions(_ node: Node, at base: String) -> EmailOptions? {
        guard case .mapping(let outer) = node, let value = outer["email"], case .mapping(let email) = value else { return nil }
        var options = EmailOptions()
        var ok = true
        if let attachNode = email["attach"] {
            if let items = stringList(attachNode, at: "\(base).email.attach") {
                for (index, (text, itemNode)) in items.enumerated() {
                    if let problem = AttachmentPath.problem(text) {
                        issue(itemNode, "\(base).email.attach[\(index)]: \"\(text)\" \(problem)",
                              fix: "write a path relative to one of attachments.roots, e.g. program-gali.pdf")
                        ok = false
                    } else {
                        options.attach.append(text)
                    }
                }
                if !declaresAttachmentRoots {
                    issue(attachNode, "\(base).email.attach: files are attached, but no attachments.roots are set",
                          fix: "add \"attachments: { roots: [./zalaczniki] }\" at the top level")
                    ok = false
                }
            } else {
                ok = false
            }
        }
        if let unsubscribeNode = email["list_unsubscribe"], let text = string(unsubscribeNode, at: "\(base).email.list_unsubscribe") {
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if items.allSatisfy({ item in
                item.hasPrefix("<") && item.hasSuffix(">") && item.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
                    && (item.lowercased().hasPrefix("<mailto:") || item.lowercased().hasPrefix("<https://"))
            }) {
                options.listUnsubscribe = items.joined(separator: ", ")
            } else {
                issue(unsubscribeNode, "\(base).email.list_unsubscribe: \"\(text)\" is not a list of <mailto:...> or <https://...>",
                      fix: "write e.g. \"<mailto:wypisz@example.org?subject=wypisz>, <https://example.org/wypisz>\" in quotes")
                ok = false
            }
        }
        return ok ? options : nil
    }

    /// Whether `attachments.roots` is written (readConfig reads `attachments` before `rules`,
    /// wherever they stand in the file).
    var declaresAttachmentRoots: Bool { lines["attachments.roots"] != nil }
}
