import Foundation
import HeroldCore
import Yams

extension ConfigReader {
    /// `retention: { content: 30d, records: 365d, duplicates: 730d }` and
    /// `log_recipients: full | masked | hashed`. Periods are whole days or shorter units;
    /// content ≤ records ≤ duplicates, since each period keeps less than the one before.
    func readRetention(_ top: Fields, into config: inout HeroldConfig) {
        if let node = top["retention"],
           let section = fields(node, at: "retention", known: ["content", "records", "duplicates"]) {
            var policy = config.retention
            let longest = 100 * 365 * 86400
            if let n = section["content"], let value = duration(n, at: "retention.content", in: 3600...longest) {
                policy.content = value
            }
            if let n = section["records"], let value = duration(n, at: "retention.records", in: 3600...longest) {
                policy.records = value
            }
            if let n = section["duplicates"], let value = duration(n, at: "retention.duplicates", in: 3600...longest) {
                policy.duplicates = value
            }
            if policy.records < policy.content {
                issue(section: "retention", node, "retention: records (\(Self.spell(Int(policy.records)))) is shorter than content (\(Self.spell(Int(policy.content))))",
                      fix: "keep records at least as long as content")
            } else if policy.duplicates < policy.records {
                issue(section: "retention", node, "retention: duplicates (\(Self.spell(Int(policy.duplicates)))) is shorter than records (\(Self.spell(Int(policy.records))))",
                      fix: "keep duplicates at least as long as records (an event's key outlives its deliveries)")
            }
            config.retention = policy
        }
        if let node = top["log_recipients"], let text = string(node, at: "log_recipients") {
            if let mode = RecipientLogMode(rawValue: text) {
                config.logRecipients = mode
            } else {
                issue(node, "log_recipients: \"\(text)\" is not a mode",
                      fix: "write one of: \(RecipientLogMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
    }
}
