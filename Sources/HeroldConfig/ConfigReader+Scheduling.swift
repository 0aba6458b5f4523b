import Foundation
import Yams

/// Where a send that falls on a weekend day or a Polish public holiday goes.
public enum WorkdayShift: String, Sendable, Equatable, CaseIterable {
    /// Sent on that day anyway.
    case none
    /// Moved to the last working day before.
    case previous
    /// Moved to the first working day after.
    case next
}

extension ConfigReader {
    /// `shift: previous | next | none`; absent means `none`.
    func shiftOption(_ node: Node?, at path: String) -> WorkdayShift {
        guard let node, let text = string(node, at: path) else { return .none }
        guard let shift = WorkdayShift(rawValue: text.lowercased()) else {
            issue(node, "\(path): \"\(text)\" is not a shift",
                  fix: "write previous (the working day before), next (the working day after) or none")
            return .none
        }
        return shift
    }

    /// Top-level `grace: 6h`: how late a send missed while herold was down may still go out.
    func readScheduling(_ grace: Node?, into config: inout HeroldConfig) {
        guard let grace, let text = string(grace, at: "grace") else { return }
        lines["grace"] = grace.mark?.line
        guard let seconds = Self.duration(text) else {
            issue(grace, "grace: \"\(text)\" is not a duration",
                  fix: "write a number with a unit: 30m, 6h or 2d (0 sends nothing that was missed)")
            return
        }
        config.grace = seconds
    }

    /// "90s", "30m", "6h", "2d", or "0"; nil for anything else or beyond a year.
    static func duration(_ text: String) -> TimeInterval? {
        if text == "0" { return 0 }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last.flatMap({ units[$0] }), text.dropLast().allSatisfy(\.isASCII),
              let n = Int(text.dropLast()), n >= 0 else { return nil }
        let seconds = Double(n) * unit
        return seconds <= 366 * 86400 ? seconds : nil
    }
}
