import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file below a folder by descriptor, so that what the folder has become since the
/// path was checked cannot lead elsewhere: the folder itself is opened as given (it is the
/// admin's, symbolic links in its own path included), then every component below it with
/// `openat(O_NOFOLLOW)` — folders with `O_DIRECTORY`, the file with `O_NONBLOCK` (a FIFO
/// cannot block) — and the file must be a regular one within the size cap (`fstat`). The
/// bytes come from that descriptor. A symbolic link anywhere below the folder is refused.
public enum ConfinedFile {
    /// Why the file cannot be read; each is permanent for the message.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The bytes of `relative` (components split at `/`; empty and `.` ones skipped) below `root`.
    public static func read(root: String, relative: String, maxBytes: Int) throws(Refusal) -> Data {
        let fd = try open(root: root, relative: relative, maxBytes: maxBytes)
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw Refusal(description: "cannot read \(root)/\(relative): \(String(cString: strerror(errno)))") }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
            guard data.count <= maxBytes else {
                throw Refusal(description: "\(root)/\(relative) grew past the limit of \(maxBytes) bytes")
            }
        }
    }

    /// An open descriptor of the regular file `relative` below `root`; the caller closes it.
    static func open(root: String, relative: String, maxBytes: Int) throws(Refusal) -> Int32 {
        var dir = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else {
            throw Refusal(description: "the attachments folder \(root) cannot be opened: \(String(cString: strerror(errno)))")
        }
        let components = relative.split(separator: "/").map(String.init).filter { $0 != "." }
        guard let fileName = components.last else {
            close(dir)
            throw Refusal(description: "\"\(relative)\" does not name a file below \(root)")
        }
        var walked = root.hasSuffix("/") ? String(root.dropLast()) : root
        for component in components.dropLast() {
            let next = openat(dir, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let failure = next < 0 ? problem(dir, component, at: walked, errno: errno) : nil
            close(dir)
            if let failure { throw failure }
            dir = next
            walked += "/" + component
        }
        let fd = openat(dir, fileName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        let failure = fd < 0 ? problem(dir, fileName, at: walked, errno: errno) : nil
        close(dir)
        if let failure { throw failure }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw Refusal(description: "\(walked)/\(fileName) is not a regular file; refused")
        }
        guard info.st_size <= maxBytes else {
            close(fd)
            throw Refusal(description: "\(walked)/\(fileName) is \(info.st_size) bytes, over the limit of \(maxBytes) (attachments.max_bytes)")
        }
        return fd
    }

    /// Why `openat(dir, name)` failed, in words: a symbolic link is named as such.
    private static func problem(_ dir: Int32, _ name: String, at folder: String, errno code: Int32) -> Refusal {
        var info = stat()
        if fstatat(dir, name, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFLNK {
            return Refusal(description: "\(folder)/\(name) is a symbolic link (changed since the message was planned?); refused, attachments are read only through real folders below attachments.roots")
        }
        if code == ENOENT { return Refusal(description: "\(folder)/\(name) does not exist (any more)") }
        if code == ENOTDIR { return Refusal(description: "\(folder)/\(name) is not a folder") }
        return Refusal(description: "cannot open \(folder)/\(name): \(String(cString: strerror(code)))")
    }
}
