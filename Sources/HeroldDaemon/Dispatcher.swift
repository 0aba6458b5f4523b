import Foundation
import HeroldCore
import HeroldStore
import Logging

/// The `qmgr` of herold: the one owner of delivery state while the daemon runs. It claims
/// due deliveries from the journal, hands them to the transports, and records each outcome
/// as `DeliveryLifecycle` decides.
actor Dispatcher {
    private let journal: Journal
    private var runtime: Runtime
    private let doorbell: Doorbell
    private let logger: Logger
    private let now: @Sendable () -> Date
    /// Transfers at once (libcurl's multi handle runs them on one thread).
    private let parallel: Int
    private let watchdog: Watchdog?
    private let recorder: OutcomeRecorder
    /// Longest idle sleep, in seconds: one indexed query per wake.
    static let idleCheck: Double = 5

    init(journal: Journal, runtime: Runtime, doorbell: Doorbell, logger: Logger,
         now: @escaping @Sendable () -> Date, parallel: Int = 16, watchdog: Watchdog? = nil) {
        self.journal = journal
        self.runtime = runtime
        self.doorbell = doorbell
        self.logger = logger
        self.now = now
        self.parallel = parallel
        self.watchdog = watchdog
        self.recorder = OutcomeRecorder(journal: journal, logger: logger)
    }

    /// Uses a new config for the deliveries that follow (endpoints, relay, secrets, backoff).
    func replace(runtime: Runtime) { self.runtime = runtime }

    /// Delivers until `shouldStop` says so; a batch in flight is finished and recorded. When
    /// the task is cancelled (the shutdown bound passed), transfers are aborted and their
    /// deliveries stay in flight, to be taken up again on the next start.
    func run(shouldStop: @escaping @Sendable () -> Bool) async {
        while !shouldStop(), !Task.isCancelled {
            watchdog?.progress()
            let claim: JournalClaim
            do {
                claim = try await journal.claim(now: now(), limit: parallel)
            } catch {
                logger.error("cannot read due deliveries from the journal", metadata: ["error": "\(error)"])
                await doorbell.wait(for: cap(.seconds(5)))
                continue
            }
            for delivery in claim.expired {
                logger.warning("delivery expired: not sent late", metadata: [
                    "delivery.id": "\(delivery.id)", "recipient": "\(delivery.recipient)",
                    "event.id": "\(delivery.event.id)", "error": "\(delivery.reason ?? "")",
                ])
            }
            if claim.claimed.isEmpty {
                if claim.expired.isEmpty { await doorbell.wait(for: await sleepTime()) }
                continue
            }
            let runtime = self.runtime
            let live = await DowntimeGrace.expireMissed(claim.claimed, config: runtime.config, journal: journal,
                                                        now: now(), logger: logger)
            if live.isEmpty { continue }
            let lifecycle = DeliveryLifecycle(retry: runtime.config.retry)
            watchdog?.setLongestTransfer(runtime.longestTransfer)
            await withTaskGroup(of: Void.self) { group in
                for delivery in live {
                    let first = claim.firstAttempts[delivery.id]
                    group.addTask {
                        await self.deliver(delivery, firstAttemptAt: first, runtime: runtime, lifecycle: lifecycle)
                    }
                }
            }
        }
    }

    /// Until the next due delivery, at most `idleCheck` (ingest rings the doorbell, but
    /// operator commands such as `release` and `requeue` run in another process and only
    /// change the journal), and no longer than the watchdog allows.
    private func sleepTime() async -> Duration {
        guard let next = try? await journal.nextDue() else { return cap(.seconds(Self.idleCheck)) }
        let seconds = min(Self.idleCheck, max(0.05, next.timeIntervalSince(now())))
        return cap(.milliseconds(Int64(seconds * 1000)))
    }

    private func cap(_ duration: Duration) -> Duration {
        guard let watchdog else { return duration }
        return min(duration, watchdog.interval)
    }

    private func deliver(_ delivery: Delivery, firstAttemptAt: Date?, runtime: Runtime,
                         lifecycle: DeliveryLifecycle) async {
        var logger = self.logger
        logger[metadataKey: "delivery.id"] = "\(delivery.id)"
        logger[metadataKey: "channel"] = "\(delivery.channel.rawValue)"
        logger[metadataKey: "recipient"] = "\(delivery.recipient)"
        logger[metadataKey: "event.id"] = "\(delivery.event.id)"
        let result = await runtime.transmit(delivery, at: now())
        watchdog?.progress()
        let finished = now()
        if Task.isCancelled, case .failure = result {
            // Aborted by the shutdown bound: left in flight, taken up again on restart.
            logger.notice("transfer aborted by shutdown; the delivery stays in flight for the next start")
            return
        }
        let event: DeliveryEvent
        switch result {
        case .success(let reply): event = .succeeded(reply: reply)
        case .failure(let failure): event = .failed(failure)
        }
        let transition: DeliveryTransition
        do {
            transition = try lifecycle.apply(event, to: delivery, now: finished, unit: Double.random(in: 0..<1),
                                             firstAttemptAt: firstAttemptAt)
        } catch {
            logger.critical("delivery state machine refused an outcome", metadata: ["error": "\(error)"])
            return
        }
        // Recorded even when shutdown cancels this task: a server said yes or no, and the
        // journal must know, or the delivery is repeated on restart.
        for action in transition.actions {
            guard await recorder.record(DeliveryOutcome(id: delivery.id, action: action, at: finished)) else { return }
            Self.log(action, of: delivery, logger: logger)
        }
    }

    private static func log(_ action: DeliveryAction, of delivery: Delivery, logger: Logger) {
        switch action {
        case .recordSent(let reply):
            logger.info("delivered", metadata: ["reply": "\(reply)", "attempt": "\(delivery.attempts)"])
        case .recordDeferred(let failure, let until):
            logger.warning("delivery deferred", metadata: [
                "error.code": "\(failure.code)", "error": "\(failure.message)",
                "retry_at": "\(RFC3339.format(until))", "attempt": "\(delivery.attempts)",
            ])
        case .recordFailed(let failure):
            logger.error("delivery failed", metadata: [
                "error.code": "\(failure.code)", "error": "\(failure.message)", "kind": "\(failure.kind.rawValue)",
            ])
        case .transmit, .recordHeld, .recordPending:
            break
        }
    }
}
