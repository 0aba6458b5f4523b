import Foundation
import HeroldConfig
import HeroldCore
import HeroldMetrics
import HeroldStore
import Logging

/// The `qmgr` of herold: the one owner of delivery state while the daemon runs.
///
/// Deliveries wait in **lanes**, one per destination (the SMTP relay, each webhook
/// endpoint). Each lane has its own limit of transfers at once and its own health
/// (`LaneHealth`): when a transfer ends, the next due delivery of that lane starts at once,
/// with no batch to wait for, so a slow or dead destination only fills its own lane. A
/// destination that is down backs off as a whole (one probe at a time); a refused login or
/// an untrusted certificate pauses its lane until a reload. Outcomes are recorded as
/// `DeliveryLifecycle` decides; lane health is kept in the journal.
actor Dispatcher {
    private let journal: any DeliveryJournal
    private var runtime: Runtime
    private let doorbell: Doorbell
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let watchdog: Watchdog?
    private let recorder: OutcomeRecorder
    private let metrics: DaemonMetrics?
    private var lanes: [Destination: LaneHealth] = [:]
    private var inFlight: [Destination: Int] = [:]
    /// Deliveries whose destination the config no longer has: claimed a few at a time so
    /// they fail with the reason.
    private var orphansInFlight = 0
    private var lastOrphanCheck = Date.distantPast
    /// Longest idle sleep, in seconds: one indexed query per wake.
    static let idleCheck: Double = 5
    static let orphanLimit = 4

    init(journal: any DeliveryJournal, runtime: Runtime, doorbell: Doorbell, logger: Logger,
         now: @escaping @Sendable () -> Date, watchdog: Watchdog? = nil,
         onDiskFull: @escaping @Sendable () -> Void = {}, metrics: DaemonMetrics? = nil) {
        self.journal = journal
        self.runtime = runtime
        self.doorbell = doorbell
        self.logger = logger
        self.now = now
        self.watchdog = watchdog
        self.metrics = metrics
        self.recorder = OutcomeRecorder(journal: journal, logger: logger, onDiskFull: onDiskFull)
    }

    /// Uses a new config for the deliveries that follow (endpoints, relay, secrets, backoff)
    /// and opens paused lanes: the operator has had the chance to fix what paused them.
    func replace(runtime: Runtime) async {
        self.runtime = runtime
        lastOrphanCheck = .distantPast
        for (destination, health) in lanes where health.isPaused {
            lanes[destination]?.resume()
            logger.notice("destination resumed after reload", metadata: ["destination": "\(destination)"])
            await save(destination)
        }
        doorbell.ring()
    }

    /// Delivers until `shouldStop` says so; transfers in flight are finished and recorded.
    /// When the task is cancelled (the shutdown bound passed), transfers are aborted and
    /// their deliveries stay in flight, to be taken up again on the next start.
    func run(shouldStop: @escaping @Sendable () -> Bool) async {
        await loadLanes()
        await withDiscardingTaskGroup { group in
            while !shouldStop(), !Task.isCancelled {
                watchdog?.progress()
                let claimed = await claimDue()
                guard let claimed, !claimed.isEmpty else {
                    if claimed != nil { await doorbell.wait(for: await sleepTime()) }
                    continue
                }
                let runtime = self.runtime
                let lifecycle = DeliveryLifecycle(retry: runtime.config.retry)
                for (delivery, first, arrived) in claimed {
                    group.addTask {
                        await self.deliver(delivery, firstAttemptAt: first, arrivedAt: arrived, runtime: runtime, lifecycle: lifecycle)
                    }
                }
            }
        }
    }

    // MARK: - Claiming

    /// The destinations the config has, with their widths.
    private var configured: [Destination: Int] {
        var widths: [Destination: Int] = [:]
        if let smtp = runtime.config.smtp { widths[.smtp] = smtp.maxConnections }
        for (name, hook) in runtime.config.webhooks { widths[.webhook(name)] = hook.maxConnections }
        return widths
    }

    /// Room in each lane now: its health's allowance less what it has out.
    private func room(at instant: Date) -> [Destination: Int] {
        configured.reduce(into: [:]) { room, lane in
            let allowance = (lanes[lane.key] ?? LaneHealth()).allowance(limit: lane.value, now: instant)
            room[lane.key] = max(0, allowance - (inFlight[lane.key] ?? 0))
        }
    }

    /// Claims what the lanes have room for and marks it started; nil after a journal error.
    private func claimDue() async -> [(Delivery, Date?, Date?)]? {
        let instant = now()
        let room = room(at: instant)
        // Deliveries of destinations the config no longer has: looked for once a minute (the
        // query cannot use the destination index).
        var others = 0
        if instant.timeIntervalSince(lastOrphanCheck) >= 60 {
            lastOrphanCheck = instant
            others = Self.orphanLimit - orphansInFlight
        }
        guard room.values.contains(where: { $0 > 0 }) || others > 0 else { return [] }
        let claim: JournalClaim
        do {
            claim = try await journal.claim(now: instant, limits: room, others: max(0, others),
                                            lateness: runtime.lateness)
        } catch {
            logger.error("cannot read due deliveries from the journal", metadata: ["error": "\(error)"])
            await doorbell.wait(for: cap(.seconds(5)))
            return nil
        }
        for delivery in claim.expired {
            logger.warning("delivery not sent: too late", metadata: [
                "delivery.id": "\(delivery.id)", "rule": "\(delivery.rule)", "recipient": "\(delivery.recipient)",
                "event.id": "\(delivery.event.id)", "due_at": "\(RFC3339.format(delivery.notBefore))",
                "reason": "\(delivery.reason ?? "")",
            ])
        }
        let live = claim.claimed
        guard !live.isEmpty else { return claim.expired.isEmpty ? [] : nil }
        let widths = configured
        for delivery in live {
            let destination = delivery.destination
            if widths[destination] == nil {
                orphansInFlight += 1
            } else {
                inFlight[destination, default: 0] += 1
                lanes[destination, default: LaneHealth()].transferStarted(now: instant)
            }
        }
        return live.map { ($0, claim.firstAttempts[$0.id], claim.arrivals[$0.id]) }
    }

    /// Until the next due delivery of a lane with room, or a lane's backoff ends, at most
    /// `idleCheck` (operator commands such as `release` run in another process and only
    /// change the journal), and no longer than the watchdog allows.
    private func sleepTime() async -> Duration {
        let instant = now()
        let open = Set(room(at: instant).filter { $0.value > 0 }.keys)
        var next = instant.addingTimeInterval(Self.idleCheck)
        if let due = try? await journal.nextDue(in: open) { next = min(next, due) }
        for health in lanes.values { if let reopens = health.reopensAt { next = min(next, reopens) } }
        let seconds = max(0.05, next.timeIntervalSince(instant))
        return cap(.milliseconds(Int64(seconds * 1000)))
    }

    private func cap(_ duration: Duration) -> Duration {
        guard let watchdog else { return duration }
        return min(duration, watchdog.interval)
    }

    // MARK: - Lanes

    private func loadLanes() async {
        do {
            for record in try await journal.lanes() {
                lanes[record.destination] = record.health
                if record.health.isPaused {
                    logger.warning("destination paused; fix the config and reload (systemctl reload herold)", metadata: [
                        "destination": "\(record.destination)", "reason": "\(record.health.lastError ?? "")",
                    ])
                }
            }
        } catch {
            logger.error("cannot read the destinations' health from the journal; starting with all open",
                         metadata: ["error": "\(error)"])
        }
    }

    private func save(_ destination: Destination) async {
        let record = LaneRecord(destination: destination, health: lanes[destination] ?? LaneHealth(), updatedAt: now())
        do {
            try await journal.save(record)
        } catch {
            logger.error("cannot record a destination's health in the journal", metadata: [
                "destination": "\(destination)", "error": "\(error)",
            ])
        }
    }

    /// A transfer of `destination` ended: the lane learns from it and has room again.
    private func finished(_ destination: Destination, result: Result<String, DeliveryFailure>) async {
        guard configured[destination] != nil else {
            orphansInFlight -= 1
            return
        }
        inFlight[destination, default: 1] -= 1
        var health = lanes[destination] ?? LaneHealth()
        let before = health
        switch result {
        case .success: health.succeeded()
        case .failure(let failure):
            health.failed(failure, retry: runtime.config.retry, now: now(), unit: Double.random(in: 0..<1))
        }
        lanes[destination] = health
        if health != before {
            logLane(destination, health)
            await save(destination)
        }
        doorbell.ring()
    }

    private func logLane(_ destination: Destination, _ health: LaneHealth) {
        let metadata: Logger.Metadata = ["destination": "\(destination)", "error": "\(health.lastError ?? "")"]
        switch health.state {
        case .open: logger.notice("destination works again; its lane is open", metadata: ["destination": "\(destination)"])
        case .backingOff(let until):
            logger.warning("destination is down; its lane backs off", metadata: metadata.merging([
                "retry_at": "\(RFC3339.format(until))", "failures": "\(health.failures)",
            ]) { $1 })
        case .probing: break
        case .paused:
            logger.error("destination paused: nothing is sent to it until the config is fixed and reloaded (systemctl reload herold)",
                         metadata: metadata)
        }
    }

    // MARK: - One transfer

    private func deliver(_ delivery: Delivery, firstAttemptAt: Date?, arrivedAt: Date?, runtime: Runtime,
                         lifecycle: DeliveryLifecycle) async {
        var logger = self.logger
        logger[metadataKey: "delivery.id"] = "\(delivery.id)"
        logger[metadataKey: "channel"] = "\(delivery.channel.rawValue)"
        logger[metadataKey: "recipient"] = "\(delivery.recipient)"
        logger[metadataKey: "event.id"] = "\(delivery.event.id)"
        let result = await runtime.transmit(delivery, at: now())
        watchdog?.progress()
        let ended = now()
        if Task.isCancelled, case .failure = result {
            // Aborted by the shutdown bound: left in flight, taken up again on restart.
            logger.notice("transfer aborted by shutdown; the delivery stays in flight for the next start")
            return
        }
        await finished(delivery.destination, result: result)
        let event: DeliveryEvent
        switch result {
        case .success(let reply): event = .succeeded(reply: reply)
        case .failure(let failure) where DestinationSignal(failure) == .pause:
            event = .interrupted(reason: "destination \(delivery.destination) paused: \(failure.description)")
        case .failure(let failure): event = .failed(failure)
        }
        let transition: DeliveryTransition
        do {
            transition = try lifecycle.apply(event, to: delivery, now: ended, unit: Double.random(in: 0..<1),
                                             firstAttemptAt: firstAttemptAt)
        } catch {
            logger.critical("delivery state machine refused an outcome", metadata: ["error": "\(error)"])
            return
        }
        // Recorded even when shutdown cancels this task: a server said yes or no, and the
        // journal must know, or the delivery is repeated on restart.
        for action in transition.actions {
            guard await recorder.record(DeliveryOutcome(id: delivery.id, action: action, at: ended)) else { return }
            Self.log(action, of: delivery, logger: logger)
            metrics?.recorded(action, of: delivery, arrivedAt: runtime.plansLater(delivery) ? nil : arrivedAt, at: ended)
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
        case .recordInterrupted(let reason):
            logger.warning("delivery waits: its destination is paused (attempt not counted)", metadata: ["reason": "\(reason)"])
        case .transmit, .recordHeld, .recordPending:
            break
        }
    }
}
