import Foundation
import HeroldConfig
import HeroldCore
import HeroldStore
import Logging

/// Mails the admin (`notify: { to, every }`) one Polish summary per period of what went wrong
/// since the last one: deliveries failed or held, destinations paused. The summary goes through
/// the runtime's email sender (the same relay) but is no delivery of a rule: it never enters
/// the journal as one, so it is never itself the subject of a summary. When the last summary
/// went out and what it told are kept in the journal: a restart neither sends early nor repeats.
/// A summary that cannot be sent is logged and tried again a period later.
struct AdminNotifier: Sendable {
    let journal: any DeliveryJournal
    let logger: Logger
    let now: @Sendable () -> Date
    let runtime: @Sendable () -> Runtime
    /// Rung by a stop (and a reload, to take up a new `notify`).
    let wake: Doorbell
    let isStopping: @Sendable () -> Bool
    /// The name the summary gives the machine.
    var host = Runtime.machineName() ?? "?"
    /// Most problems read for one summary; the rest wait for the next.
    var batch = 500

    func run() async {
        var lastTried: Date?
        while !isStopping() {
            let runtime = runtime()
            guard let notify = runtime.config.notify else {
                await wake.wait(for: .seconds(3600))
                continue
            }
            let seconds = await tick(runtime: runtime, notify: notify, lastTried: &lastTried)
            await wake.wait(for: .milliseconds(Int64(seconds * 1000)))
        }
    }

    /// One look: sends a summary when one is due and there is news. Returns the seconds to wait.
    func tick(runtime: Runtime, notify: NotifyConfig, lastTried: inout Date?) async -> TimeInterval {
        let instant = now()
        let summary: AdminSummary
        do {
            let last = [try await journal.lastAdminSummary(), lastTried].compactMap { $0 }.max()
            guard AdminSummary.isDue(now: instant, last: last, every: notify.every) else {
                return AdminSummary.pause(now: instant, last: last, every: notify.every)
            }
            let zone = runtime.config.timezone
            guard let made = AdminSummary.make(problems: try await journal.untoldProblems(limit: batch), host: host,
                                               now: instant, describe: { WallClock.format($0, in: zone) }) else {
                return AdminSummary.pause(now: instant, last: last, every: notify.every)
            }
            summary = made
        } catch {
            logger.error("cannot read the journal for the admin summary; will try again", metadata: ["error": "\(error)"])
            return min(notify.every, 30)
        }
        lastTried = instant
        do {
            try await send(summary, to: notify, runtime: runtime, at: instant)
            try await journal.recordAdminSummary(sentAt: instant, covered: summary.covered)
            logger.notice("admin summary sent", metadata: ["to": "\(notify.to.address)", "problems": "\(summary.covered.count)"])
        } catch {
            logger.error("admin summary not sent; will try again next period", metadata: [
                "to": "\(notify.to.address)", "error": "\(error)", "every_s": "\(Int(notify.every))",
            ])
        }
        return notify.every
    }

    private func send(_ summary: AdminSummary, to notify: NotifyConfig, runtime: Runtime, at instant: Date) async throws {
        guard let smtp = runtime.config.smtp, let sender = runtime.emailSender else {
            throw DeliveryFailure(kind: .permanent, code: "config.smtp", message: "the config has no smtp section")
        }
        let content = EmailContent(from: smtp.from.description, to: notify.to.description, subject: summary.subject,
                                   text: summary.text, sender: smtp.sender?.description)
        // Not a delivery: its Message-ID says so, and it never takes a delivery id.
        let id = DeliveryID(rawValue: "herold-summary-\(Int64(instant.timeIntervalSince1970 * 1000))")
        _ = try await sender.send(try runtime.composer.compose(content, id: id, date: instant))
    }
}
