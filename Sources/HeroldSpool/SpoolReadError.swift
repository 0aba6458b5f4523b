/// Why a file in `new/` could not be read, sorted by what the caller should do about it.
public enum SpoolReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is no longer there (another instance or an operator removed it): ignore it.
    case gone(name: String)
    /// The file can never be accepted (a symlink, not a regular file, too big, a bad
    /// name): move it to `rejected/` with this reason.
    case unacceptable(name: String, reason: String)
    /// Reading failed for a reason that may pass (EIO, EMFILE, EACCES…): leave the file
    /// where it is and try again later.
    case io(name: String, error: SystemCallError)

    public var description: String {
        switch self {
        case .gone(let name): return "\(name): the file is gone"
        case .unacceptable(let name, let reason): return "\(name): \(reason)"
        case .io(let name, let error): return "\(name): \(error)"
        }
    }
}

/// A spool operation that failed (prepare, reject, remove, enqueue, listing).
public struct SpoolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
