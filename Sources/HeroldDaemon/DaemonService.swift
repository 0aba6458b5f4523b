import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// One of the daemon's long-running parts as a swift-service-lifecycle `Service`. `body` runs
/// until the part is done. At graceful shutdown `stop` asks it to finish what it holds (ring
/// its bell, end its input); a part with nothing to finish is cancelled instead.
struct DaemonService: Service {
    let name: String
    private let cancelledOnShutdown: Bool
    private let stop: @Sendable () -> Void
    private let body: @Sendable () async -> Void

    init(_ name: String, cancelledOnShutdown: Bool = false, stop: @escaping @Sendable () -> Void,
         body: @escaping @Sendable () async -> Void) {
        self.name = name
        self.cancelledOnShutdown = cancelledOnShutdown
        self.stop = stop
        self.body = body
    }

    func run() async throws {
        let stop = stop
        let body = body
        if cancelledOnShutdown {
            await withGracefulShutdownHandler { await cancelWhenGracefulShutdown(body) } onGracefulShutdown: { stop() }
        } else {
            await withGracefulShutdownHandler { await body() } onGracefulShutdown: { stop() }
        }
    }
}

/// The last resort of a stop: transfers in flight get `shutdown_timeout`; then every service
/// is cancelled (transfers are aborted and stay in flight in the journal, taken up again on
/// the next start) and, should libcurl sit in one reply until its own timeout, herold exits
/// 2 s later with the journal consistent, as after a crash — never a `fatalError`.
final class LastResort: Sendable {
    private let logger: Logger
    private let notifier: SystemdNotifier
    private let exitCode: @Sendable () -> Int32
    private let bound: @Sendable () -> TimeInterval
    private let state = Mutex<(group: Task<Void, any Error>?, timer: Task<Void, Never>?)>((nil, nil))

    init(logger: Logger, notifier: SystemdNotifier, exitCode: @escaping @Sendable () -> Int32,
         bound: @escaping @Sendable () -> TimeInterval) {
        self.logger = logger
        self.notifier = notifier
        self.exitCode = exitCode
        self.bound = bound
    }

    /// The task running the service group, cancelled when the bound runs out.
    func watch(_ group: Task<Void, any Error>) {
        state.withLock { $0.group = group }
    }

    /// Starts the clock (once).
    func arm() {
        let seconds = bound()
        state.withLock { state in
            guard state.timer == nil else { return }
            state.timer = Task { [self] in
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                guard !Task.isCancelled else { return }
                logger.warning("transfers still in flight after shutdown_timeout; leaving them for the next start",
                               metadata: ["shutdown_timeout": "\(Int(seconds))s"])
                self.state.withLock { $0.group }?.cancel()
                try? await Task.sleep(for: .seconds(2))
                guard !Task.isCancelled else { return }
                logger.warning("transfers did not stop; exiting with them in flight")
                notifier.notify("STATUS=stopped with transfers in flight")
                Foundation.exit(exitCode())
            }
        }
    }

    func disarm() {
        state.withLock { $0.timer }?.cancel()
    }
}
