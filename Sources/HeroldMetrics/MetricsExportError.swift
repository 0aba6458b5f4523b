import Glibc

/// A failed system call of the metrics' exposition (the listener's socket, the textfile):
/// which call, on which address or path, and what the kernel said. `isTransient`: the
/// address is busy or the system is short of something, and a later try may work;
/// otherwise the address or path itself is wrong for this machine.
public struct MetricsExportError: Error, Sendable, CustomStringConvertible {
    public var call: String
    /// `HOST:PORT` or a file path.
    public var address: String
    public var errno: Int32

    public var isTransient: Bool {
        [EADDRINUSE, EAGAIN, ENOBUFS, ENOMEM, ENOSPC, EDQUOT, EIO, EMFILE, ENFILE, EINTR].contains(errno)
    }

    public var description: String {
        "\(isTransient ? "transient" : "permanent"): \(call) \(address): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
