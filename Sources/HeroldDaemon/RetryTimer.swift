import Foundation
import HeroldCore
import Synchronization

/// The ingest loop's one timer: `request(at:)` as often as files fail, and at most one
/// wake-up is pending (see `WakeSchedule`); when it goes off, `wake` is called once.
final class RetryTimer: Sendable {
    private struct State {
        var schedule = WakeSchedule()
        var task: Task<Void, Never>?
    }

    private let state = Mutex(State())
    private let wake: @Sendable () -> Void
    private let now: @Sendable () -> Date

    init(now: @Sendable @escaping () -> Date, wake: @Sendable @escaping () -> Void) {
        self.now = now
        self.wake = wake
    }

    /// Asks for a wake-up at `date`; kept only if no pending one comes earlier.
    func request(at date: Date) {
        let delay = max(0, date.timeIntervalSince(now()))
        state.withLock { state in
            guard state.schedule.request(date) else { return }
            state.task?.cancel()
            state.task = Task { [weak self] in
                try? await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
                guard !Task.isCancelled, let self else { return }
                let fire = self.state.withLock { state in
                    guard !Task.isCancelled, state.schedule.armed == date else { return false }
                    state.schedule.fired()
                    state.task = nil
                    return true
                }
                if fire { self.wake() }
            }
        }
    }

    /// The rescan the timer asked for begins.
    func began() {
        state.withLock { $0.schedule.began() }
    }

    func cancel() {
        state.withLock { state in
            state.task?.cancel()
            state.task = nil
        }
    }
}
