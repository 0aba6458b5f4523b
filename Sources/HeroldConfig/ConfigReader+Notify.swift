import Foundation
import HeroldCore
import Yams

/// `notify:`: a summary to an admin when deliveries fail or are held, or a destination pauses.
public struct NotifyConfig: Sendable, Equatable {
    /// Who gets the summary (`to`), through the same relay as every email.
    public var to: Mailbox
    /// At most one summary per this many seconds (`every`, default 1h, from 1s to 7d).
    public var every: TimeInterval

    public init(to: Mailbox, every: TimeInterval = 3600) {
        self.to = to
        self.every = every
    }
}

extension ConfigReader {
    /// `notify: { to: admin@example.org, every: 1h }`; needs an `smtp:` section to send through.
    func readNotify(_ node: Node, into config: inout HeroldConfig) {
        guard let notify = fields(node, at: "notify", known: ["to", "every"], required: ["to"]) else { return }
        var to: Mailbox?
        if let toNode = notify["to"], let text = string(toNode, at: "notify.to") {
            do {
                to = try Mailbox.parse(text)
            } catch {
                issue(toNode, "notify.to: \"\(text)\" is not a valid address: \(error)",
                      fix: "write the admin's address, e.g. admin@example.org or \"Dział IT <it@example.org>\"")
            }
        }
        var every: TimeInterval? = 3600
        if let everyNode = notify["every"] { every = duration(everyNode, at: "notify.every", in: 1...(7 * 86400)) }
        guard config.smtp != nil else {
            issue(section: "notify", node, "notify: the summary is sent by email, but there is no smtp section",
                  fix: "add an smtp section (url and from), or remove notify")
            return
        }
        if let to, let every { config.notify = NotifyConfig(to: to, every: every) }
    }
}
