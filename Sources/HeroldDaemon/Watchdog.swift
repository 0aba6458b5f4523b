import Foundation
import HeroldCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// systemd's `WatchdogSec=`: when `$WATCHDOG_USEC` is set (and `$WATCHDOG_PID`, if set, is
/// this process), `WATCHDOG=1` must arrive at least that often or systemd restarts herold.
///
/// A heartbeat pings at a quarter of the timeout as long as the delivery engine makes real
/// progress (`StallDetector`): the loop turning, transfers ending. A loop or a transfer stuck
/// past the transfers' own timeouts stops the pings, and systemd restarts herold.
final class Watchdog: Sendable {
    /// Half the watchdog timeout: the longest the delivery loop may sleep.
    let interval: Duration
    private let notifier: SystemdNotifier
    private let detector: Mutex<StallDetector>
    /// Time without progress allowed on top of the longest transfer's timeouts.
    static let slack: Duration = .seconds(5)

    /// Nil when systemd asks for no watchdog.
    init?(environment: [String: String], notifier: SystemdNotifier) {
        guard let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], !pid.isEmpty, pid != String(getpid()) { return nil }
        interval = .microseconds(max(usec / 2, 1000))
        self.notifier = notifier
        detector = Mutex(StallDetector(limit: .seconds(60), start: .now))
    }

    /// The delivery loop turned, or a transfer ended.
    func progress() {
        let now = ContinuousClock.now
        detector.withLock { $0.progress(at: now) }
    }

    /// The longest one transfer may take (connect and total timeouts of the slowest
    /// destination); set at start and on reload.
    func setLongestTransfer(_ duration: Duration) {
        detector.withLock { $0.limit = duration + Self.slack }
    }

    /// Pings while herold makes progress, until cancelled.
    func run() async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            if detector.withLock({ $0.isHealthy(at: now) }) { notifier.notify("WATCHDOG=1") }
            try? await Task.sleep(for: interval / 2)
        }
    }
}
