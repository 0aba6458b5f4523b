import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The write end of the self-pipe, for the C signal handler (async-signal-safe: one write).
private nonisolated(unsafe) var signalPipeWriteEnd: Int32 = -1

/// SIGTERM, SIGINT and SIGHUP as a stream, with no window in which one is lost: a plain
/// `sigaction` handler, installed before this returns, writes the signal's number to a pipe
/// (the classic self-pipe), and a thread turns the bytes into stream elements. (A dispatch
/// signal source registers itself asynchronously, so a SIGTERM right after `READY=1` could
/// meet `SIG_IGN` and be dropped.)
enum SignalPipe {
    static let signals: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    /// Installs the handlers once for the process; returns the signals as they arrive.
    static func install() -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            continuation.finish()
            return stream
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        signalPipeWriteEnd = fds[1]
        for number in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(signalPipeWriteEnd, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
        let readEnd = fds[0]
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count == 1 { continuation.yield(Int32(byte)) } else if count < 0, errno == EINTR { continue } else { break }
            }
            continuation.finish()
        }
        thread.name = "herold-signals"
        thread.start()
        return stream
    }
}
