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
///
/// Few task switches per delivery: an open lane claims a group of deliveries ahead of its
/// transfers (one journal transaction per group, not per delivery), each transfer's task
/// goes on with the lane's next queued delivery when it ends, and outcomes go to the
/// `OutcomeRecorder`'s group commit without the lane waiting for it. Deliveries claimed
/// ahead that cannot start (the lane stops being open, herold stops) are put back,
/// their attempt not counted; after a crash they are taken up again like any in flight.
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
    /// Claimed for a lane ahead of its transfers, in due order (see `ahead`).
    private var queued: [Destination: [Claimed]] = [:]
    /// Claimed deliveries of destinations the config no longer has, to be started.
    private var orphans: [Claimed] = []
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
        let gone = queued.keys.filter { configured[$0] == nil }
        giveBack(gone, reason: "claimed ahead but not started: its destination is no longer in the config")
        for (destination, health) in lanes where health.isPaused {
            lanes[destination]?.resume()
            logger.notice("destination resumed after reload", metadata: ["destination": "\(destination)"])
            await save(destination)
        }
        doorbell.ring()
    }

    /// Delivers until `shouldStop` says so; transfers in flight are finished and recorded.
    /// When the task is cancelled (the shutdown bound passed), transfers are aborted and
    /// their deliveries stay in flight, to be taken up again on the next start. Deliveries
    /// claimed ahead but not started go back to the queue either way.
    func run(shouldStop: @escaping @Sendable () -> Bool) async {
        await loadLanes()
        await withDiscardingTaskGroup { group in
            while !shouldStop(), !Task.isCancelled {
                watchdog?.progress()
                guard let claim = await claimDue() else { continue }
                let starts = startable()
                for start in starts {
                    group.addTask { await self.work(start, shouldStop: shouldStop) }
                }
                // Claimed less than asked: nothing more is due now, so no second (empty) claim
                // before sleeping — at a low rate that is one claim transaction per delivery.
                let exhausted = claim.count > 0 ? !claim.mayHaveMore : starts.isEmpty
                if exhausted { await doorbell.wait(for: await sleepTime()) }
            }
            // At once, not after the transfers in flight: one may outlast the shutdown bound
            // and herold exit with it in flight.
            giveBack(queued.keys, reason: "claimed ahead but not started before herold stopped")
            await recorder.drain()
        }
        await recorder.drain()
    }

    // MARK: - Claiming

    /// One delivery taken from the journal, with what its lifecycle and metrics need.
    struct Claimed: Sendable {
        var delivery: Delivery
        var firstAttemptAt: Date?
        var arrivedAt: Date?
    }

    /// A transfer to start, with the config it goes out under.
    struct Start: Sendable {
        var item: Claimed
        var runtime: Runtime
    }

    /// The destinations the config has, with their widths.
    private var configured: [Destination: Int] {
        var widths: [Destination: Int] = [:]
        if let smtp = runtime.config.smtp { widths[.smtp] = smtp.maxConnections }
        for (name, hook) in runtime.config.webhooks { widths[.webhook(name)] = hook.maxConnections }
        return widths
    }

    /// How many deliveries an open lane keeps claimed beyond its transfers, so that a
    /// transfer that ends starts the next at once, and claims come in groups.
    static func ahead(width: Int) -> Int { max(4, width) }

    /// How many to claim now for each lane: its health's allowance less what it has out
    /// and queued, plus `ahead` for an open lane — claimed again only once its queue is down
    /// to half of that, so a busy lane costs one claim per several deliveries.
    private func wanted(at instant: Date) -> [Destination: Int] {
        configured.reduce(into: [:]) { wanted, lane in
            let health = lanes[lane.key] ?? LaneHealth()
            let allowance = health.allowance(limit: lane.value, now: instant)
            let waiting = queued[lane.key]?.count ?? 0
            let out = (inFlight[lane.key] ?? 0) + waiting
            guard case .open = health.state else {
                wanted[lane.key] = max(0, allowance - out)
                return
            }
            let ahead = Self.ahead(width: lane.value)
            wanted[lane.key] = waiting > ahead / 2 ? 0 : max(0, allowance + ahead - out)
        }
    }

    /// What one claim took: how many deliveries, and whether a lane (or the look for
    /// destinations no longer configured) got all it asked for, so more may be due.
    struct ClaimResult {
        var count: Int
        var mayHaveMore: Bool
    }

    /// Claims what the lanes want and queues it in its lane; returns how many, or nil after
    /// a journal error (having waited a little).
    private func claimDue() async -> ClaimResult? {
        let instant = now()
        let wanted = wanted(at: instant)
        // Deliveries of destinations the config no longer has: looked for once a minute (the
        // query cannot use the destination index).
        var others = 0
        if instant.timeIntervalSince(lastOrphanCheck) >= 60 {
            lastOrphanCheck = instant
            others = Self.orphanLimit - orphansInFlight
        }
        guard wanted.values.contains(where: { $0 > 0 }) || others > 0 else { return ClaimResult(count: 0, mayHaveMore: false) }
        let claim: JournalClaim
        do {
            claim = try await journal.claim(now: instant, limits: wanted, others: max(0, others),
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
        let widths = configured
        for delivery in claim.claimed {
            let item = Claimed(delivery: delivery, firstAttemptAt: claim.firstAttempts[delivery.id],
                               arrivedAt: claim.arrivals[delivery.id])
            if widths[delivery.destination] == nil {
                orphans.append(item)
            } else {
                queued[delivery.destination, default: []].append(item)
            }
        }
        return ClaimResult(count: claim.claimed.count + claim.expired.count,
                           mayHaveMore: Self.mayHaveMore(claim, wanted: wanted, others: others))
    }

    /// Whether a lane got as many deliveries as it asked for (or the destinations no longer
    /// configured got `others`): the journal may hold more that are due.
    static func mayHaveMore(_ claim: JournalClaim, wanted: [Destination: Int], others: Int) -> Bool {
        var got: [Destination: Int] = [:]
        var orphans = 0
        for delivery in claim.claimed + claim.expired {
            if wanted[delivery.destination] == nil { orphans += 1 } else { got[delivery.destination, default: 0] += 1 }
        }
        if others > 0, orphans >= others { return true }
        return wanted.contains { $0.value > 0 && (got[$0.key] ?? 0) >= $0.value }
    }

    /// Takes the queued deliveries their lanes have room for now, marking them started.
    private func startable() -> [Start] {
        let instant = now()
        var starts = orphans.map { Start(item: $0, runtime: runtime) }
        orphansInFlight += orphans.count
        orphans = []
        for (destination, width) in configured {
            while let item = next(for: destination, width: width, at: instant) {
                starts.append(Start(item: item, runtime: runtime))
            }
        }
        return starts
    }

    /// The lane's next queued delivery if it has room for one more transfer (counted as
    /// started), else nil.
    private func next(for destination: Destination, width: Int, at instant: Date) -> Claimed? {
        let health = lanes[destination] ?? LaneHealth()
        guard let waiting = queued[destination], !waiting.isEmpty,
              (inFlight[destination] ?? 0) < health.allowance(limit: width, now: instant) else { return nil }
        let item = queued[destination, default: []].removeFirst()
        inFlight[destination, default: 0] += 1
        lanes[destination, default: LaneHealth()].transferStarted(now: instant)
        return item
    }

    /// Until the next due delivery of a lane that wants more, or a lane's backoff ends, at
    /// most `idleCheck` (operator commands such as `release` run in another process and only
    /// change the journal), and no longer than the watchdog allows. A lane busy with its
    /// queue rings the doorbell when it wants more.
    private func sleepTime() async -> Duration {
        let instant = now()
        let open = Set(wanted(at: instant).filter { $0.value > 0 }.keys)
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

    /// Puts the queued (claimed, never started) deliveries of `destinations` back: pending,
    /// their attempt not counted.
    private func giveBack(_ destinations: some Sequence<Destination>, reason: String) {
        let instant = now()
        let lifecycle = DeliveryLifecycle(retry: runtime.config.retry)
        for destination in Array(destinations) {
            for item in queued.removeValue(forKey: destination) ?? [] {
                guard let transition = try? lifecycle.apply(.interrupted(reason: reason), to: item.delivery, now: instant,
                                                           unit: 0, firstAttemptAt: item.firstAttemptAt) else { continue }
                for action in transition.actions {
                    recorder.submit(DeliveryOutcome(id: item.delivery.id, action: action, at: instant)) { _ in }
                }
            }
        }
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
    /// Returns the lane's next queued delivery when it may start now (counted as started),
    /// with the config it goes out under; nil ends the transfer's worker.
    private func finished(_ destination: Destination, result: Result<String, DeliveryFailure>,
                          stopping: Bool) async -> Start? {
        guard let width = configured[destination] else {
            orphansInFlight -= 1
            return nil
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
            if case .open = health.state {} else {
                giveBack([destination], reason: "claimed ahead but not started: destination \(destination) is not open")
            }
            doorbell.ring()
            await save(destination)
        }
        guard !stopping else { return nil }
        let waiting = queued[destination]?.count ?? 0
        let item = next(for: destination, width: width, at: now())
        // The lane's queue came down to its refill mark (or the lane has room and nothing
        // queued): the claim loop takes more.
        let mark = Self.ahead(width: width) / 2
        if item == nil || (waiting > mark && waiting - 1 <= mark) { doorbell.ring() }
        return item.map { Start(item: $0, runtime: runtime) }
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

    /// Runs transfers of one lane one after another, as long as the lane has queued
    /// deliveries and room: no claim and no task start between them. A transfer starts only
    /// once the outcome of the one before it is durable (see `OutcomeLatch`).
    private nonisolated func work(_ first: Start, shouldStop: @escaping @Sendable () -> Bool) async {
        var start: Start? = first
        var previous: OutcomeLatch?
        while let current = start {
            await previous?.wait()
            let delivery = current.item.delivery
            let result = await current.runtime.transmit(delivery, at: now())
            watchdog?.progress()
            let ended = now()
            if Task.isCancelled, case .failure = result {
                // Aborted by the shutdown bound: left in flight, taken up again on restart.
                Self.tagged(logger, delivery).notice("transfer aborted by shutdown; the delivery stays in flight for the next start")
                return
            }
            start = await finished(delivery.destination, result: result, stopping: shouldStop() || Task.isCancelled)
            previous = record(result, of: current, at: ended)
        }
    }

    /// `base` with the delivery's own fields.
    private static func tagged(_ base: Logger, _ delivery: Delivery) -> Logger {
        var logger = base
        logger[metadataKey: "delivery.id"] = "\(delivery.id)"
        logger[metadataKey: "channel"] = "\(delivery.channel.rawValue)"
        logger[metadataKey: "recipient"] = "\(delivery.recipient)"
        logger[metadataKey: "event.id"] = "\(delivery.event.id)"
        return logger
    }

    /// Hands the lifecycle's outcome to the recorder; logs and counts it once it is durable.
    /// Recorded even when shutdown cancels the worker: a server said yes or no, and the
    /// journal must know, or the delivery is repeated on restart.
    /// Returns a latch that opens when the outcome is through the recorder.
    private nonisolated func record(_ result: Result<String, DeliveryFailure>, of start: Start,
                                    at ended: Date) -> OutcomeLatch? {
        let delivery = start.item.delivery
        let event: DeliveryEvent
        switch result {
        case .success(let reply): event = .succeeded(reply: reply)
        case .failure(let failure) where DestinationSignal(failure) == .pause:
            event = .interrupted(reason: "destination \(delivery.destination) paused: \(failure.description)")
        case .failure(let failure): event = .failed(failure)
        }
        let lifecycle = DeliveryLifecycle(retry: start.runtime.config.retry)
        let transition: DeliveryTransition
        do {
            transition = try lifecycle.apply(event, to: delivery, now: ended, unit: Double.random(in: 0..<1),
                                             firstAttemptAt: start.item.firstAttemptAt)
        } catch {
            Self.tagged(logger, delivery).critical("delivery state machine refused an outcome", metadata: ["error": "\(error)"])
            return nil
        }
        let arrivedAt = start.runtime.plansLater(delivery) ? nil : start.item.arrivedAt
        let logger = logger, metrics = metrics
        let latch = OutcomeLatch(count: transition.actions.count)
        for action in transition.actions {
            recorder.submit(DeliveryOutcome(id: delivery.id, action: action, at: ended)) { durable in
                latch.done()
                guard durable else { return }
                Self.log(action, of: delivery, logger: logger)
                metrics?.recorded(action, of: delivery, arrivedAt: arrivedAt, at: ended)
            }
        }
        return latch
    }

    /// The outcome's log line, with the delivery's own fields.
    private static func log(_ action: DeliveryAction, of delivery: Delivery, logger base: Logger) {
        let logger = tagged(base, delivery)
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
