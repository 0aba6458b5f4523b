import Glibc

/// Writes the metrics for node-exporter's textfile collector: the whole text to a
/// temporary file beside `path` (a name the collector skips: it reads `*.prom` only), then
/// renamed over `path`, so the collector never reads half a file. Mode 0644 whatever the
/// umask: the collector runs as another user.
public struct TextfileWriter: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public func write(_ bytes: [UInt8]) throws(MetricsExportError) {
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw MetricsExportError(call: "open", address: temporary, errno: errno) }
        var failure: MetricsExportError?
        if fchmod(fd, 0o644) != 0 { failure = MetricsExportError(call: "fchmod", address: temporary, errno: errno) }
        var written = 0
        while failure == nil, written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                failure = MetricsExportError(call: "write", address: temporary, errno: count < 0 ? errno : EIO)
                break
            }
            written += count
        }
        if close(fd) != 0, failure == nil, errno != EINTR {
            failure = MetricsExportError(call: "close", address: temporary, errno: errno)
        }
        if failure == nil, rename(temporary, path) != 0 {
            failure = MetricsExportError(call: "rename", address: "\(temporary) -> \(path)", errno: errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }
}
