import Foundation
import HeroldCore
import Logging

/// What the loop does and says about a file that could not be ingested: one log line per
/// try at most, with the next try's time; one line for a whole journal outage.
extension IngestLoop {
    func failed(_ name: String, _ failure: IngestFailure, logger: Logger, _ state: inout State) {
        switch state.retries.failed(name, failure, now: now()) {
        case .later(let next, let tries):
            logLater(failure, next: next, tries: tries, logger: logger)
        case .reject(let reason):
            if case .failed(let failure) = ingestor.reject(name, reason: reason, logger: logger) {
                // A failed move is `unreadable`: it is tried later, never rejected again here.
                self.failed(name, failure, logger: logger, &state)
            } else {
                state.retries.settled(name, journalWrote: false)
            }
        case .paused(_, let firstNotice):
            if case .noSpace = failure { reserve.release() }
            guard firstNotice, let reason = failure.outageReason else { return }
            logger.error("the journal cannot take events: ingest paused; files stay in spool/new, deliveries already journaled go on, ingest resumes by itself", metadata: [
                "error": "\(reason)", "retry_every": "\(Int(policy.probeEvery))s",
            ])
        }
    }

    func settle(_ name: String, journalWrote: Bool, _ state: inout State) {
        guard let ended = state.retries.settled(name, journalWrote: journalWrote) else { return }
        logger.notice("the journal takes events again: ingest resumed", metadata: [
            "paused_for": "\(Int(now().timeIntervalSince(ended.since)))s",
        ])
    }

    private func logLater(_ failure: IngestFailure, next: Date, tries: Int, logger: Logger) {
        switch failure {
        case .unreadable(let reason):
            logger.warning("spool file cannot be taken now; it stays in spool/new and is tried again", metadata: [
                "error": "\(reason)", "tries": "\(tries)", "next_try": "\(RFC3339.format(next))",
            ])
        case .refused(let reason):
            logger.error("the journal refused the file's events; it stays in spool/new and is tried again, then rejected", metadata: [
                "error": "\(reason)", "tries": "\(tries) of \(policy.refusals)", "next_try": "\(RFC3339.format(next))",
            ])
        case .journalDown, .noSpace:
            break
        }
    }

    /// What ingest waits for, for systemd's STATUS; nil when nothing.
    static func statusText(_ state: State) -> String? {
        var parts: [String] = []
        if let outage = state.retries.outage {
            parts.append("ingest paused since \(RFC3339.format(outage.since)): the journal cannot take events")
        }
        if state.listingRetry != nil { parts.append("spool/new cannot be listed") }
        let count = state.retries.waiting.count
        if count > 0 {
            let next = state.retries.waiting.values.map(\.next).min().map { RFC3339.format($0) } ?? "?"
            parts.append("\(count) spool file(s) waiting in new/ (next try \(next))")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

extension IngestFailure {
    /// What stopped the journal, for an outage.
    var outageReason: String? {
        switch self {
        case .journalDown(let reason), .noSpace(let reason): return reason
        case .unreadable, .refused: return nil
        }
    }
}
