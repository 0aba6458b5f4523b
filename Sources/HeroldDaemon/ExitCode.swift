/// sysexits(3) codes, as the command line promises them.
public enum SysExit: Int32, Sendable {
    case ok = 0
    case usage = 64
    /// The input data (an event) was invalid.
    case dataError = 65
    /// A destination does not work (`check --connect`): sysexits' EX_UNAVAILABLE.
    case unavailable = 69
    case ioError = 74
    /// Try again later: another `herold serve` holds the state folder.
    case tempFail = 75
    /// The configuration (or a template) is invalid.
    case config = 78
}

/// An error a command ends with: what to print and which code to exit with.
public struct CommandFailure: Error, Sendable, CustomStringConvertible {
    public var exit: SysExit
    public var message: String
    public init(_ exit: SysExit, _ message: String) {
        self.exit = exit
        self.message = message
    }
    public var description: String { message }
}
