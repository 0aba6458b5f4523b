import Foundation
import HeroldCore
import Yams

extension ConfigReader {
    /// `retry: { first: 60s, max: 1h, lifetime: 5d, jitter: 0.25 }` and `shutdown_timeout: 30s`.
    func readRetryAndShutdown(_ top: Fields, into config: inout HeroldConfig) {
        if let node = top["retry"], let retry = fields(node, at: "retry", known: ["first", "max", "lifetime", "jitter"]) {
            var policy = config.retry
            if let n = retry["first"], let value = duration(n, at: "retry.first", in: 1...86400) { policy.firstDelay = value }
            if let n = retry["max"], let value = duration(n, at: "retry.max", in: 1...(7 * 86400)) { policy.maxDelay = value }
            if let n = retry["lifetime"], let value = duration(n, at: "retry.lifetime", in: 60...(90 * 86400)) {
                policy.lifetime = value
            }
            if let n = retry["jitter"] {
                if case .scalar(let scalar) = n, let value = Double(scalar.string), (0...1).contains(value) {
                    policy.jitter = value
                } else {
                    issue(n, "retry.jitter: expected a fraction from 0 to 1, found \(describe(n))",
                          fix: "write e.g. 0.25 (each delay varies by up to ±25%)")
                }
            }
            if policy.maxDelay < policy.firstDelay {
                issue(section: "retry", node, "retry: max (\(Int(policy.maxDelay))s) is shorter than first (\(Int(policy.firstDelay))s)",
                      fix: "make max at least as long as first")
            }
            config.retry = policy
        }
        if let node = top["shutdown_timeout"], let value = duration(node, at: "shutdown_timeout", in: 1...3600) {
            config.shutdownTimeout = value
        }
    }

    /// A duration: a whole number with a unit, `30s`, `5m`, `1h`, `2d` (a bare number is seconds),
    /// within `range` seconds.
    func duration(_ node: Node, at path: String, in range: ClosedRange<Int>) -> TimeInterval? {
        let fix = "write a whole number with a unit: s, m, h or d (e.g. 30s, 5m, 1h, 2d)"
        guard case .scalar(let scalar) = node, node.null == nil else {
            issue(node, "\(path): expected a duration such as 5m, found \(describe(node))", fix: fix)
            return nil
        }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var digits = Substring(text)
        var unit = 1
        if let last = text.last, let factor = units[last] {
            digits = text.dropLast()
            unit = factor
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(digits),
              number <= Int.max / unit else {
            issue(node, "\(path): \"\(text)\" is not a duration", fix: fix)
            return nil
        }
        let seconds = number * unit
        guard range.contains(seconds) else {
            issue(node, "\(path): \(text) is out of range",
                  fix: "use a duration from \(Self.spell(range.lowerBound)) to \(Self.spell(range.upperBound))")
            return nil
        }
        return TimeInterval(seconds)
    }

    /// `90` → `90s`, `3600` → `1h`: the largest unit that divides it.
    static func spell(_ seconds: Int) -> String {
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
