import Foundation
import HeroldCore
import HeroldStore
import Logging

/// The `qmgr` of herold: the one owner of delivery state while the daemon runs. It claims
/// due deliveries from the journal, hands them to the transports, and records each outcome.
actor Dispatcher {
    private let journal: Journal
    private var runtime: Runtime
    private let doorbell: Doorbell
    private let logger: Logger
    private let now: @Sendable () -> Date
    /// Transfers at once (libcurl's multi handle runs them on one thread).
    private let parallel: Int
    private let retry: RetryPolicy

    init(journal: Journal, runtime: Runtime, doorbell: Doorbell, logger: Logger,
         now: @escaping @Sendable () -> Date, parallel: Int = 16, retry: RetryPolicy = RetryPolicy()) {
        self.journal = journal
        self.runtime = runtime
        self.doorbell = doorbell
        self.logger = logger
        self.now = now
        self.parallel = parallel
        self.retry = retry
    }

    /// Uses a new config for the deliveries that follow (endpoints, relay, secrets).
    func replace(runtime: Runtime) { self.runtime = runtime }

    /// Delivers until `shouldStop` says so; a batch in flight is always finished and recorded.
    func run(shouldStop: @escaping @Sendable () -> Bool) async {
        while !shouldStop() {
            let due: [Delivery]
            do {
                due = try await journal.claimDue(now: now(), limit: parallel)
            } catch {
                logger.error("cannot read due deliveries from the journal", metadata: ["error": "\(error)"])
                await doorbell.wait(for: .seconds(5))
                continue
            }
            if due.isEmpty {
                await doorbell.wait(for: await sleepTime())
                continue
            }
            let runtime = self.runtime
            let live = await DowntimeGrace.expireMissed(due, config: runtime.config, journal: journal, now: now(), logger: logger)
            await withTaskGroup(of: Void.self) { group in
                for delivery in live {
                    group.addTask { await self.deliver(delivery, runtime: runtime) }
                }
            }
        }
    }

    /// Until the next due delivery, at most a minute (a cheap re-check; ingest rings anyway).
    private func sleepTime() async -> Duration {
        guard let next = try? await journal.nextDue() else { return .seconds(60) }
        let seconds = min(60, max(0.05, next.timeIntervalSince(now())))
        return .milliseconds(Int64(seconds * 1000))
    }

    private func deliver(_ delivery: Delivery, runtime: Runtime) async {
        var logger = self.logger
        logger[metadataKey: "delivery.id"] = "\(delivery.id)"
        logger[metadataKey: "channel"] = "\(delivery.channel.rawValue)"
        logger[metadataKey: "recipient"] = "\(delivery.recipient)"
        logger[metadataKey: "event.id"] = "\(delivery.event.id)"
        let started = now()
        let result = await runtime.transmit(delivery, at: started)
        let finished = now()
        do {
            switch result {
            case .success(let reply):
                try await journal.markSent(delivery.id, at: finished, reply: reply)
                logger.info("delivered", metadata: ["reply": "\(reply)", "attempt": "\(delivery.attempts)"])
            case .failure(let failure):
                switch retry.decide(after: failure, attempts: delivery.attempts, dueSince: delivery.notBefore,
                                    now: finished, unit: Double.random(in: 0..<1)) {
                case .retry(let at):
                    try await journal.markDeferred(delivery.id, failure: failure, until: at, at: finished)
                    logger.warning("delivery deferred", metadata: [
                        "error.code": "\(failure.code)", "error": "\(failure.message)",
                        "retry_at": "\(RFC3339.format(at))", "attempt": "\(delivery.attempts)",
                    ])
                case .giveUp(let reason):
                    var final = failure
                    final.message = reason == failure.description ? failure.message : reason
                    try await journal.markFailed(delivery.id, failure: final, at: finished)
                    logger.error("delivery failed", metadata: [
                        "error.code": "\(failure.code)", "error": "\(final.message)", "kind": "\(failure.kind.rawValue)",
                    ])
                }
            }
        } catch {
            // The outcome could not be recorded: the delivery stays in flight and is
            // taken up again on restart (at-least-once, same Message-ID / webhook-id).
            logger.critical("cannot record delivery outcome in the journal", metadata: ["error": "\(error)"])
        }
    }
}
