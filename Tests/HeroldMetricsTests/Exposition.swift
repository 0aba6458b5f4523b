import Foundation
import XCTest
@testable import HeroldMetrics

/// The exposition text as a reader sees it: sample lines by `name{labels}`, and HELP/TYPE lines.
struct Exposition {
    let text: String

    init(_ metrics: DaemonMetrics) {
        text = String(decoding: metrics.exposition(), as: UTF8.self)
    }

    /// The value of the sample written exactly `series` (e.g. `herold_x{a="b"}`), or nil.
    func value(_ series: String) -> Double? {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), line[..<space] == series else { continue }
            return Double(line[line.index(after: space)...])
        }
        return nil
    }

    /// Every sample line of the metric `name` (its histogram series included).
    func samples(of name: String) -> [Substring] {
        text.split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
    }

    func type(of name: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix("# TYPE \(name) ") }.map { String($0.split(separator: " ")[3]) }
    }

    func hasHelp(_ name: String) -> Bool {
        text.split(separator: "\n").contains { $0.hasPrefix("# HELP \(name) ") && $0.count > "# HELP \(name) ".count + 10 }
    }
}
