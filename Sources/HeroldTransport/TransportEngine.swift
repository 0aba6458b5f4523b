import Curl

/// The libcurl engine every sender shares, behind a type of this module so that the daemon
/// starts it, keeps it across reloads and stops it at exit without knowing libcurl.
public final class TransportEngine: Sendable {
    let curl: CurlEngine

    /// As many mail threads as `smtp.max_connections` may ask for (1…50): each message under
    /// way waits for its relay's reply to DATA on a thread of its own.
    static let maxMailThreads = 50

    /// Starts `threads` transfer loops (more mail loops start when needed); fails when
    /// libcurl cannot be initialised.
    public init(threads: Int = 4) throws(TransportStartError) {
        do {
            curl = try CurlEngine(threads: threads, maxMailThreads: Self.maxMailThreads)
        } catch {
            throw TransportStartError(message: error.description)
        }
    }

    /// Stops the transfer loops; transfers still running fail.
    public func shutdown() { curl.shutdown() }
}

/// libcurl could not be started: nothing can be sent.
public struct TransportStartError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
