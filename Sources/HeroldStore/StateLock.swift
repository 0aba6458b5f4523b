import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One `herold serve` per state folder: an exclusive `flock(2)` on `STATE/herold.lock`,
/// held for the life of the process (the kernel drops it when the process dies, so a
/// crash never leaves a stale lock). The file holds the holder's pid, so a second daemon
/// can say which process is in the way.
///
/// Operator commands (`status`, `requeue`…) do not take the lock: they are short journal
/// transactions that may run next to the daemon.
public final class StateLock: Sendable {
    public static let fileName = "herold.lock"

    /// Why the lock could not be taken.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// Another process holds it; its pid when the file names one.
        case held(path: String, pid: Int32?)
        case io(path: String, message: String)

        public var description: String {
            switch self {
            case .held(let path, let pid):
                let who = pid.map { "another herold (pid \($0))" } ?? "another herold"
                return "\(who) is already serving this state folder (lock \(path)); "
                    + "stop it first (systemctl stop herold, or end the process started by hand)"
            case .io(let path, let message):
                return "cannot take the state lock \(path): \(message)"
            }
        }
    }

    public let path: String
    private let descriptor: Int32

    /// Takes the lock or throws at once (never waits).
    public init(directory: URL) throws(Failure) {
        let path = directory.appendingPathComponent(Self.fileName).path
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .io(path: path, message: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.readPID(fd)
            close(fd)
            if code == EWOULDBLOCK { throw .held(path: path, pid: holder) }
            throw .io(path: path, message: String(cString: strerror(code)))
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int32(text)
    }
}
