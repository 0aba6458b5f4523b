import Foundation
import HeroldCore
import Logging
import Synchronization

/// One line per record on stderr, `level=info msg="…" key=value …` — readable in
/// `journalctl` and parseable by log shippers. Metadata carries the data (ids, codes).
public struct LogfmtHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    /// Under systemd the journal adds its own timestamp.
    private let timestamps: Bool
    private static let output = Mutex(())

    public init(label: String, level: Logger.Level, timestamps: Bool) {
        self.label = label
        self.logLevel = level
        self.timestamps = timestamps
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = ""
        if timestamps { line += "time=\(RFC3339.format(Date())) " }
        let recipients = RecipientLogFilter.current
        line += "level=\(event.level) msg=\(Self.quote(recipients.apply("\(event.message)")))"
        let merged = recipients.apply(metadata.merging(event.metadata ?? [:]) { _, new in new })
        for key in merged.keys.sorted() {
            line += " \(key)=\(Self.quote("\(merged[key]!)"))"
        }
        line += "\n"
        Self.output.withLock { _ in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    static func quote(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
        guard needsQuotes else { return value }
        var escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        escaped = escaped.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        return "\"\(escaped)\""
    }
}
