import Foundation
import HeroldCore

/// What one delivery attempt came to, as the `outcome` and `code` labels of
/// `herold_delivery_attempts_total`.
public enum AttemptOutcome: Sendable, Equatable {
    case sent
    /// A transient failure: tried again later. `code` is `DeliveryFailure.code`.
    case deferred(code: String)
    /// A permanent failure, or out of retries.
    case failed(code: String)

    var label: String {
        switch self {
        case .sent: "sent"
        case .deferred: "deferred"
        case .failed: "failed"
        }
    }

    var code: String {
        switch self {
        case .sent: "none"
        case .deferred(let code), .failed(let code): Self.codeClass(code)
        }
    }

    /// The kinds of code herold's transports and planner give (`DeliveryFailure.code`).
    static let families: Set<String> = ["smtp", "http", "curl", "tls", "message", "webhook", "outbox", "delivery",
                                        "config", "internal", "expired"]

    /// A failure code folded to a bounded label value: SMTP and HTTP status codes to their
    /// class (`smtp.550` → `smtp.5xx`, `http.503` → `http.5xx`); libcurl's numbered codes
    /// (`curl.7`, `curl.28`: fewer than 100) and herold's named ones (`smtp.auth`,
    /// `tls.certificate`) as they are; anything else `other`.
    public static func codeClass(_ code: String) -> String {
        let parts = code.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let family = parts.first.map(String.init), families.contains(family) else { return "other" }
        guard parts.count == 2 else { return parts[0].isEmpty ? "other" : family }
        let detail = parts[1]
        let digits = detail.allSatisfy { $0.isASCII && $0.isNumber }
        if digits {
            switch family {
            case "smtp", "http":
                guard detail.count == 3, let first = detail.first, ("1"..."5").contains(first) else { return "\(family).other" }
                return "\(family).\(first)xx"
            case "curl":
                return detail.count <= 2 ? code : "curl.other"
            default:
                return "\(family).other"
            }
        }
        let named = !detail.isEmpty && detail.count <= 24
            && detail.allSatisfy { ($0.isASCII && $0.isLetter && $0.isLowercase) || $0 == "-" }
        return named ? code : "\(family).other"
    }
}
