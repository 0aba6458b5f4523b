import Curl
import Dispatch
import Foundation
import HeroldCore
import HeroldMetrics
import HeroldSpool
import HeroldStore
import Logging
import Synchronization

/// `herold serve`: the composition root. Builds the parts from the config, watches the
/// spool, delivers, and answers systemd and signals.
public struct Daemon: Sendable {
    public let configPath: String
    public let logger: Logger
    private let notifier: SystemdNotifier
    private let environment: [String: String]

    public init(configPath: String, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.configPath = configPath
        self.logger = logger
        self.notifier = SystemdNotifier(environment: environment)
        self.environment = environment
    }

    /// `spoolLost`: the watcher lost `new/` (moved, deleted, unmounted); herold stops with 74.
    private enum Signal: Sendable { case terminate(Int32), reload, spoolLost(SpoolError) }

    /// Runs until SIGTERM or SIGINT; returns the exit code.
    public func run() async -> SysExit {
        // Signals first: a SIGTERM that arrives while herold is still starting (a restart
        // followed at once by a stop) waits in the pipe and stops it cleanly, instead of
        // meeting the default action and killing the process.
        let (signals, signalInput) = AsyncStream.makeStream(of: Signal.self)
        let rawSignals = SignalPipe.install()
        let curl: CurlEngine
        do {
            curl = try CurlEngine()
        } catch {
            logger.critical("cannot start libcurl", metadata: ["error": "\(error)"])
            return .ioError
        }
        defer { curl.shutdown() }
        let runtime: Runtime
        do {
            runtime = try Runtime.load(configPath: configPath, logger: logger, curl: curl)
        } catch {
            for issue in error.issues { logger.critical("configuration error", metadata: ["issue": "\(issue)"]) }
            return .config
        }
        let config = runtime.config
        let metrics = config.metrics.isEnabled ? DaemonMetrics() : nil
        let spool = Spool(root: config.spool)
        let stateLock: StateLock
        do {
            stateLock = try Self.lockState(config.state)
        } catch {
            logger.critical("cannot start: the state folder is in use", metadata: [
                "state": "\(config.state.path)", "error": "\(error)",
            ])
            if case .held = error { return .tempFail }
            return .ioError
        }
        defer { withExtendedLifetime(stateLock) {} }
        let journal: any DeliveryJournal
        let watcher: SpoolWatcher
        let pseudonym: RecipientPseudonym
        do {
            try spool.prepare()
            journal = try Journal(directory: config.state, onCommit: metrics?.journalCommitted(seconds:synced:))
            pseudonym = try RecipientKey.load(directory: config.state)
            RecipientLogFilter(mode: config.logRecipients, pseudonym: pseudonym).install()
            let recovered = try await journal.recoverInflight()
            if recovered > 0 {
                logger.notice("deliveries interrupted by a stop are taken up again", metadata: ["count": "\(recovered)"])
            }
            let cleaned = try spool.cleanTmp(olderThan: 86400, now: Date())
            if cleaned > 0 { logger.notice("removed stale files from spool/tmp", metadata: ["count": "\(cleaned)"]) }
            watcher = try SpoolWatcher(directory: spool.new)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            return .ioError
        }

        let now = SystemClock().closure
        let doorbell = Doorbell()
        let stopping = Atomic<Bool>(false)
        let exitCode = Atomic<Int32>(SysExit.ok.rawValue)
        let current = Mutex(runtime)
        let ingestor = Ingestor(spool: spool, journal: journal, logger: logger, now: now, metrics: metrics)
        let watchdog = Watchdog(environment: environment, notifier: notifier)
        let reserve = StateReserve(state: config.state)
        let dispatcher = Dispatcher(journal: journal, runtime: runtime, doorbell: doorbell, logger: logger, now: now,
                                    watchdog: watchdog, onDiskFull: { reserve.release() }, metrics: metrics)

        let signalForwarder = Task {
            for await number in rawSignals {
                signalInput.yield(number == SIGHUP ? .reload : .terminate(number))
            }
        }
        defer { signalForwarder.cancel() }

        // Ingest: watcher signals; the loop adds its own rescans (retries, and a periodic scan as the truth).
        let (spoolSignals, spoolInput) = AsyncStream.makeStream(of: SpoolSignal.self)
        let forwarder = Task {
            for await signal in watcher.signals { spoolInput.yield(signal) }
            spoolInput.finish()
            // A lost new/ is not watched again (the spool holds the old folder open): stop,
            // and let systemd's Restart=on-failure start herold, which checks the folders anew.
            if let failure = watcher.failure { signalInput.yield(.spoolLost(failure)) }
        }
        let watchingLine = "watching \(spool.new.path)"
        let loop = IngestLoop(
            spool: spool, ingestor: ingestor, reserve: reserve, logger: logger, now: now,
            runtime: { current.withLock { $0 } },
            isStopping: { stopping.load(ordering: .relaxed) },
            accepted: { doorbell.ring() },
            status: { notifier.notify("STATUS=" + ($0.map { "\(watchingLine); \($0)" } ?? watchingLine)) })
        let readyLine = "READY=1\nSTATUS=\(watchingLine)"
        let ingest = Task {
            await loop.run(signals: spoolSignals) {
                notifier.notify(readyLine)
                logger.info("herold is ready", metadata: ["spool": "\(spool.new.path)", "journal": "\(config.state.path)"])
            }
        }
        watchdog?.setLongestTransfer(runtime.longestTransfer)
        let heartbeat = Task { await watchdog?.run() }
        let delivery = Task {
            await dispatcher.run(shouldStop: { stopping.load(ordering: .relaxed) })
        }
        let calendarBell = Doorbell()
        let calendarService = CalendarService(journal: journal, logger: logger, now: now,
                                              runtime: { current.withLock { $0 } }, dispatcherBell: doorbell,
                                              wake: calendarBell, isStopping: { stopping.load(ordering: .relaxed) })
        let calendar = Task { await calendarService.run() }
        let retentionService = RetentionService(journal: journal, spool: spool, pseudonym: pseudonym, logger: logger, now: now,
                                                policy: { current.withLock { $0.config.retention } }, wake: Doorbell(),
                                                isStopping: { stopping.load(ordering: .relaxed) })
        let retention = Task { await retentionService.run() }
        let notifyBell = Doorbell()
        let adminNotifier = AdminNotifier(journal: journal, logger: logger, now: now, runtime: { current.withLock { $0 } },
                                     wake: notifyBell, isStopping: { stopping.load(ordering: .relaxed) })
        let notifying = Task { await adminNotifier.run() }
        let exposition = metrics.map {
            MetricsService(metrics: $0, settings: config.metrics, journal: journal, logger: logger, now: now,
                           config: { current.withLock { $0.config } })
        }.map { service in Task { await service.run() } }

        for await signal in signals {
            switch signal {
            case .reload:
                notifier.notify("RELOADING=1\nSTATUS=reloading \(configPath)")
                do {
                    let fresh = try Runtime.load(configPath: configPath, logger: logger, curl: curl)
                    current.withLock { $0 = fresh }
                    RecipientLogFilter(mode: fresh.config.logRecipients, pseudonym: pseudonym).install()
                    await dispatcher.replace(runtime: fresh)
                    calendarBell.ring()
                    notifyBell.ring()
                    logger.notice("configuration reloaded")
                    notifier.notify("READY=1\nSTATUS=configuration reloaded; watching \(spool.new.path)")
                } catch {
                    for issue in error.issues { logger.error("new configuration refused; keeping the old one", metadata: ["issue": "\(issue)"]) }
                    notifier.notify("READY=1\nSTATUS=new configuration refused (\(error.issues.count) errors); running the old one")
                }
            case .terminate, .spoolLost:
                if case .spoolLost(let failure) = signal {
                    logger.critical("spool folder lost; stopping, to be restarted by systemd",
                                    metadata: ["folder": "\(spool.new.path)", "error": "\(failure)", "exit": "74"])
                    notifier.notify("STATUS=stopping: \(failure)")
                    exitCode.store(SysExit.ioError.rawValue, ordering: .relaxed)
                } else if case .terminate(let number) = signal {
                    logger.notice("stopping: finishing transfers in flight", metadata: ["signal": "\(number)"])
                }
                notifier.notify("STOPPING=1")
                stopping.store(true, ordering: .relaxed)
                watcher.stop()
                spoolInput.finish()
                doorbell.ring()
                calendarBell.ring()
                retention.cancel()
                notifyBell.ring()
                notifying.cancel()
                signalInput.finish()
            }
        }
        await ingest.value
        // Transfers in flight get `shutdown_timeout`; then they are aborted and left in
        // flight in the journal, taken up again on the next start.
        let bound = current.withLock { $0.config.shutdownTimeout }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int64(bound * 1000)))
            guard !Task.isCancelled else { return }
            logger.warning("transfers still in flight after shutdown_timeout; leaving them for the next start",
                           metadata: ["shutdown_timeout": "\(Int(bound))s"])
            delivery.cancel()
            // libcurl can block its loop for one reply (SMTP end of DATA) and miss the
            // cancel until its own timeout: the journal is consistent at every moment, so
            // exit now and leave the rest in flight, as a crash would.
            try? await Task.sleep(for: .seconds(2))
            guard !Task.isCancelled else { return }
            logger.warning("transfers did not stop; exiting with them in flight")
            notifier.notify("STATUS=stopped with transfers in flight")
            Foundation.exit(exitCode.load(ordering: .relaxed))
        }
        await delivery.value
        await calendar.value
        await retention.value
        await notifying.value
        timer.cancel()
        exposition?.cancel()
        heartbeat.cancel()
        forwarder.cancel()
        logger.notice("stopped")
        return SysExit(rawValue: exitCode.load(ordering: .relaxed)) ?? .ioError
    }

    /// One daemon per state folder: a second one would ingest the same files and take up
    /// the first one's deliveries in flight, sending them twice.
    private static func lockState(_ state: URL) throws(StateLock.Failure) -> StateLock {
        do {
            try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io(path: state.path, message: "\(error.localizedDescription)")
        }
        return try StateLock(directory: state)
    }
}
