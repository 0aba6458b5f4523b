import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// systemd's `WatchdogSec=`: when `$WATCHDOG_USEC` is set (and `$WATCHDOG_PID`, if set, is
/// this process), `WATCHDOG=1` must arrive at least that often or systemd restarts herold.
/// The dispatcher pings from its loop, so a stuck loop stops the pings.
final class Watchdog: Sendable {
    /// Half the watchdog timeout: how often to ping.
    let interval: Duration
    private let notifier: SystemdNotifier
    private let lastPing = Mutex<ContinuousClock.Instant?>(nil)

    /// Nil when systemd asks for no watchdog.
    init?(environment: [String: String], notifier: SystemdNotifier) {
        guard let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], !pid.isEmpty, pid != String(getpid()) { return nil }
        interval = .microseconds(max(usec / 2, 1000))
        self.notifier = notifier
    }

    /// Sends `WATCHDOG=1` unless one went out less than a quarter of the timeout ago.
    func ping() {
        let now = ContinuousClock.now
        let due = lastPing.withLock { last -> Bool in
            if let last, now - last < interval / 2 { return false }
            last = now
            return true
        }
        if due { notifier.notify("WATCHDOG=1") }
    }

    /// Pings every `interval` while a batch of transfers runs, but never past `deadline`
    /// (the longest the batch may take): a batch stuck beyond its timeouts lets systemd act.
    func keepAlive(until deadline: ContinuousClock.Instant) async {
        while !Task.isCancelled, ContinuousClock.now < deadline {
            ping()
            try? await Task.sleep(for: interval / 2)
        }
    }
}
