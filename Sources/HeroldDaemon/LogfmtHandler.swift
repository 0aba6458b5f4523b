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
        line.reserveCapacity(256)
        if timestamps {
            line += "time="
            line += RFC3339.format(Date())
            line += " "
        }
        let recipients = RecipientLogFilter.current
        line += "level="
        line += event.level.rawValue
        line += " msg="
        Self.append(recipients.apply("\(event.message)"), to: &line)
        var merged = metadata
        if let extra = event.metadata, !extra.isEmpty { merged.merge(extra) { _, new in new } }
        merged = recipients.apply(merged)
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += key
            line += "="
            if case .string(let text) = value { Self.append(text, to: &line) } else { Self.append("\(value)", to: &line) }
        }
        line += "\n"
        Self.output.withLock { _ in Self.writeAll(line) }
    }

    /// Writes the whole line to stderr (a short write is continued; an error drops the rest).
    private static func writeAll(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            guard let start = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let written = write(2, start + offset, bytes.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    /// `value`, quoted when it must be, appended to `line`.
    static func append(_ value: String, to line: inout String) {
        if needsQuotes(value) { line += quote(value) } else { line += value }
    }

    /// Whether `value` must be quoted: empty, or a space, `"`, `=` or a line break in it.
    /// Looks at the UTF-8 bytes first; only text with a byte that may start such a
    /// character (a space, `"`, `=`, a control character, or the lead byte of U+0085,
    /// U+2028, U+2029) is looked at character by character.
    static func needsQuotes(_ value: String) -> Bool {
        guard !value.isEmpty else { return true }
        return value.utf8.contains(where: mayNeedQuotes)
            && value.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
    }

    private static func mayNeedQuotes(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x20, 0x22, 0x3D, 0x0A...0x0D, 0xC2, 0xE2: return true
        default: return false
        }
    }

    /// `value` in double quotes, with `\\`, `"`, line feed and carriage return escaped (one
    /// pass over the UTF-8 bytes), when it needs quotes; else as it is.
    static func quote(_ value: String) -> String {
        guard needsQuotes(value) else { return value }
        var bytes: [UInt8] = [0x22]
        bytes.reserveCapacity(value.utf8.count + 8)
        for byte in value.utf8 {
            switch byte {
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x22: bytes += [0x5C, 0x22]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x0D: bytes += [0x5C, 0x72]
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
        return String(decoding: bytes, as: UTF8.self)
    }
}
