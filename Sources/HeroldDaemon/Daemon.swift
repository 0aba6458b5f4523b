import Dispatch
import Foundation
import HeroldCore
import HeroldMetrics
import HeroldSpool
import HeroldStore
import HeroldTransport
import Logging
import ServiceLifecycle
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

    private enum Signal: Sendable { case terminate(Int32), reload }

    /// Runs until SIGTERM or SIGINT; returns the exit code.
    public func run() async -> SysExit {
        // Signals first: a SIGTERM that arrives while herold is still starting (a restart
        // followed at once by a stop) waits in the pipe and stops it cleanly, instead of
        // meeting the default action and killing the process.
        let (signals, signalInput) = AsyncStream.makeStream(of: Signal.self)
        let rawSignals = SignalPipe.install()
        let curl: TransportEngine
        do {
            curl = try TransportEngine()
        } catch {
            logger.critical("cannot start libcurl", metadata: ["error": "\(error)"])
            return .ioError
        }
        defer { curl.shutdown() }
        let runtime: Runtime
        do {
            runtime = try Runtime.load(configPath: configPath, logger: logger, transportEngine: curl)
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
        // Signals from here on: a stop while the journal is still out of reach ends the wait.
        let terminating = Atomic<Bool>(false)
        let signalForwarder = Task {
            for await number in rawSignals {
                if number != SIGHUP { terminating.store(true, ordering: .relaxed) }
                signalInput.yield(number == SIGHUP ? .reload : .terminate(number))
            }
        }
        defer { signalForwarder.cancel() }
        let journal: any DeliveryJournal
        do {
            try spool.prepare()
            // READY=1 comes only once the journal answers; spool files wait in new/ meanwhile.
            guard let opened = try await JournalOpener.openWaiting(
                config, logger: logger, onCommit: metrics?.journalCommitted(seconds:synced:),
                status: { notifier.notify("STATUS=\($0)") },
                shouldStop: { terminating.load(ordering: .relaxed) }) else {
                logger.notice("stopped before the journal could be reached")
                return .ok
            }
            journal = opened
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            return .ioError
        }
        let watcher: SpoolWatcher
        let pseudonym: RecipientPseudonym
        do {
            pseudonym = try await JournalOpener.pseudonym(config, journal: journal)
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
            await journal.shutdown()
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

        // Ingest: watcher signals; the loop adds its own rescans (retries, and a periodic scan as the truth).
        let (spoolSignals, spoolInput) = AsyncStream.makeStream(of: SpoolSignal.self)
        let forwarder = Task {
            for await signal in watcher.signals { spoolInput.yield(signal) }
            // A lost new/ is not watched again (the spool holds the old folder open): stop,
            // and let systemd's Restart=on-failure start herold, which checks the folders anew.
            // The end of ingest stops the group; the exit code is set before it, so the stop
            // reports 74 whichever service it reaches first.
            if let failure = watcher.failure {
                exitCode.store(SysExit.ioError.rawValue, ordering: .relaxed)
                logger.critical("spool folder lost; stopping, to be restarted by systemd",
                                metadata: ["folder": "\(spool.new.path)", "error": "\(failure)", "exit": "74"])
                notifier.notify("STATUS=stopping: \(failure)")
            }
            spoolInput.finish()
        }
        defer { forwarder.cancel() }
        let watchingLine = "watching \(spool.new.path)"
        let loop = IngestLoop(
            spool: spool, ingestor: ingestor, reserve: reserve, logger: logger, now: now,
            runtime: { current.withLock { $0 } },
            isStopping: { stopping.load(ordering: .relaxed) },
            accepted: { doorbell.ring() },
            status: { notifier.notify("STATUS=" + ($0.map { "\(watchingLine); \($0)" } ?? watchingLine)) })
        let readyLine = "READY=1\nSTATUS=\(watchingLine)"
        watchdog?.setLongestTransfer(runtime.longestTransfer)
        let calendarBell = Doorbell()
        let calendarService = CalendarService(journal: journal, logger: logger, now: now,
                                              runtime: { current.withLock { $0 } }, dispatcherBell: doorbell,
                                              wake: calendarBell, isStopping: { stopping.load(ordering: .relaxed) })
        let retentionService = RetentionService(journal: journal, spool: spool, pseudonym: pseudonym, logger: logger, now: now,
                                                policy: { current.withLock { $0.config.retention } }, wake: Doorbell(),
                                                isStopping: { stopping.load(ordering: .relaxed) })
        let notifyBell = Doorbell()
        let adminNotifier = AdminNotifier(journal: journal, logger: logger, now: now, runtime: { current.withLock { $0 } },
                                     wake: notifyBell, isStopping: { stopping.load(ordering: .relaxed) })
        let exposition = metrics.map {
            MetricsService(metrics: $0, settings: config.metrics, journal: journal, logger: logger, now: now,
                           config: { current.withLock { $0.config } })
        }

        // A stop begins once, whichever service is asked first: every loop sees `stopping`,
        // systemd hears STOPPING=1, and the last resort's clock starts.
        let lastResort = LastResort(logger: logger, notifier: notifier, exitCode: { exitCode.load(ordering: .relaxed) },
                                    bound: { current.withLock { $0.config.shutdownTimeout } })
        let beginStop: @Sendable () -> Void = {
            guard !stopping.exchange(true, ordering: .relaxed) else { return }
            notifier.notify("STOPPING=1")
            lastResort.arm()
        }

        // The parts as services, in the order they start; a graceful shutdown stops them in
        // the reverse order: signals, ingest (no new events), the admin's summaries, retention,
        // the calendar, the lanes (transfers in flight finish), metrics, the watchdog last.
        // A service that returns ends the group, so only parts that run are services.
        var services: [DaemonService] = []
        if let watchdog {
            services.append(DaemonService("watchdog", cancelledOnShutdown: true, stop: beginStop) { await watchdog.run() })
        }
        if let exposition {
            services.append(DaemonService("metrics", cancelledOnShutdown: true, stop: beginStop) { await exposition.run() })
        }
        if let postgres = config.journal.postgresql {
            // Stopped after the lanes: a transfer finishing during the stop keeps its lease.
            services.append(DaemonService("leases", cancelledOnShutdown: true, stop: beginStop) {
                await LeaseKeeper(journal: journal, lease: postgres.lease, logger: logger, now: now).run()
            })
        }
        services += [
            DaemonService("lanes", stop: { beginStop(); doorbell.ring() }) {
                await dispatcher.run(shouldStop: { stopping.load(ordering: .relaxed) })
            },
            DaemonService("calendar", stop: { beginStop(); calendarBell.ring() }) { await calendarService.run() },
            DaemonService("retention", cancelledOnShutdown: true, stop: beginStop) { await retentionService.run() },
            DaemonService("notify", cancelledOnShutdown: true, stop: { beginStop(); notifyBell.ring() }) { await adminNotifier.run() },
            DaemonService("ingest", stop: { beginStop(); watcher.stop(); spoolInput.finish() }) {
                await loop.run(signals: spoolSignals) {
                    notifier.notify(readyLine)
                    logger.info("herold is ready", metadata: ["spool": "\(spool.new.path)", "journal": "\(config.journal.postgresql.map(String.init(describing:)) ?? config.state.path)"])
                }
            },
            // Returning ends the group gracefully (SIGTERM, SIGINT); a lost spool folder ends ingest.
            DaemonService("signals", stop: { beginStop(); signalInput.finish() }) {
                for await signal in signals {
                    switch signal {
                    case .reload:
                        await reload(current: current, curl: curl, dispatcher: dispatcher, pseudonym: pseudonym,
                               watching: spool.new.path, bells: [calendarBell, notifyBell])
                    case .terminate(let number):
                        logger.notice("stopping: finishing transfers in flight", metadata: ["signal": "\(number)"])
                        return
                    }
                }
            },
        ]
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { service in
                .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: service.name)
            },
            logger: logger))
        let running = Task { try await group.run() }
        lastResort.watch(running)
        if case .failure(let error) = await running.result, !(error is CancellationError) {
            logger.error("a service ended with an error", metadata: ["error": "\(error)"])
        }
        lastResort.disarm()
        await journal.shutdown()
        logger.notice("stopped")
        return SysExit(rawValue: exitCode.load(ordering: .relaxed)) ?? .ioError
    }

    /// SIGHUP: the new configuration replaces the old one only when it loads without an issue.
    private func reload(current: borrowing Mutex<Runtime>, curl: TransportEngine, dispatcher: Dispatcher, pseudonym: RecipientPseudonym,
                        watching: String, bells: [Doorbell]) async {
        notifier.notify("RELOADING=1\nSTATUS=reloading \(configPath)")
        do {
            let fresh = try Runtime.load(configPath: configPath, logger: logger, transportEngine: curl)
            current.withLock { $0 = fresh }
            RecipientLogFilter(mode: fresh.config.logRecipients, pseudonym: pseudonym).install()
            await dispatcher.replace(runtime: fresh)
            for bell in bells { bell.ring() }
            logger.notice("configuration reloaded")
            notifier.notify("READY=1\nSTATUS=configuration reloaded; watching \(watching)")
        } catch {
            for issue in error.issues { logger.error("new configuration refused; keeping the old one", metadata: ["issue": "\(issue)"]) }
            notifier.notify("READY=1\nSTATUS=new configuration refused (\(error.issues.count) errors); running the old one")
        }
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
