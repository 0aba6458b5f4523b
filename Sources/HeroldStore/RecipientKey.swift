import Foundation
import Glibc
import HeroldCore

/// The key of `RecipientPseudonym`: 32 random bytes in `STATE/recipient.key` (mode 0600,
/// owned like the state folder), made on first use and never logged. The same key across
/// restarts gives the same hash for the same address, in the journal and in the logs.
/// Losing it only means old hashes can no longer be matched to an address.
public enum RecipientKey {
    public static let fileName = "recipient.key"
    static let length = 32

    /// Reads the key, or creates it: written under a temporary name, then linked into
    /// place without replacing, so a daemon and a command starting together agree on one.
    public static func load(directory: URL) throws -> RecipientPseudonym {
        RecipientPseudonym(key: try bytes(directory: directory))
    }

    /// The key's bytes (made on first use, as `load`).
    public static func bytes(directory: URL) throws -> [UInt8] {
        let path = directory.appendingPathComponent(fileName).path
        if let key = try readKey(path) { return key }
        var bytes = [UInt8](repeating: 0, count: length)
        var rng = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = rng.next() }
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create", temporary) }
        defer { unlink(temporary) }
        var owner = stat()
        if stat(directory.path, &owner) == 0, geteuid() == 0 { _ = fchown(fd, owner.st_uid, owner.st_gid) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == length, synced else { throw failure("write", temporary) }
        if link(temporary, path) != 0, errno != EEXIST { throw failure("link", path) }
        guard let key = try readKey(path) else { throw failure("read", path) }
        return key
    }

    private static func readKey(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0, errno == ENOENT { return nil }
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: length + 1)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count == length else {
            throw JournalError(kind: .corrupt, file: path, operation: "read the recipient key",
                               message: "holds \(count) bytes, not \(length); restore it from a backup, or remove it (old hashes then match no address)")
        }
        return Array(bytes.prefix(length))
    }

    private static func failure(_ call: String, _ path: String) -> JournalError {
        JournalError(kind: .transient, file: path, operation: "\(call) the recipient key",
                     message: String(cString: strerror(errno)))
    }
}
