import Foundation
import HeroldCore
import HeroldSpool
import HeroldStore
import Logging

/// Retention while the daemon runs: once at start and then every `interval`, erases and
/// removes what the config's `retention` periods have passed (`Journal.applyRetention`, in
/// short transactions that never hold deliveries up for long) and old files in
/// `spool/rejected/`. Woken early by a stop.
struct RetentionService: Sendable {
    let journal: any DeliveryJournal
    let spool: Spool
    let pseudonym: RecipientPseudonym
    let logger: Logger
    let now: @Sendable () -> Date
    let policy: @Sendable () -> RetentionPolicy
    let wake: Doorbell
    let isStopping: @Sendable () -> Bool
    var interval: Duration = .seconds(3600)

    func run() async {
        await prepare()
        while !isStopping() {
            await pass()
            await wake.wait(for: interval)
        }
    }

    /// A journal from before retention is switched to incremental vacuum when small.
    func prepare() async {
        do {
            switch try await journal.prepareSpaceReclaim() {
            case .incremental: break
            case .switched: logger.notice("journal switched to incremental vacuum: retention now gives space back")
            case .tooLarge(let bytes):
                logger.warning("journal too large to switch to incremental vacuum while running; space is reused but not given back",
                               metadata: ["bytes": "\(bytes)",
                                          "fix": "stop herold, run: sqlite3 \(journal.path) 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM'"])
            }
        } catch {
            logger.error("cannot prepare the journal for retention", metadata: ["error": "\(error)"])
        }
    }

    /// One retention pass at `now()`.
    func pass() async {
        let policy = policy(), instant = now()
        do {
            let report = try await journal.applyRetention(policy, now: instant, pseudonym: pseudonym)
            let rejected = try spool.removeRejected(olderThan: policy.content, now: instant)
            guard !report.isEmpty || rejected > 0 else { return }
            logger.info("retention: old personal data erased", metadata: [
                "content_erased": "\(report.contentErased)", "event_bodies_erased": "\(report.eventBodiesErased)",
                "deliveries_deleted": "\(report.deliveriesDeleted)", "event_keys_deleted": "\(report.eventKeysDeleted)",
                "pages_freed": "\(report.pagesFreed)", "rejected_files_removed": "\(rejected)",
            ])
        } catch is CancellationError {
            return
        } catch {
            logger.error("retention failed; trying again later", metadata: ["error": "\(error)"])
        }
    }
}
