import Foundation
import HeroldCore
import HeroldRules
import HeroldStore

/// The admin's summary (`notify:`), pure: whether one is due, and what it says, in Polish —
/// what failed, for whom, why, and the command that fixes or retries it. The service that
/// looks at the journal and sends it is `AdminNotifier`.
struct AdminSummary: Sendable, Equatable {
    var subject: String
    var text: String
    /// What it tells: remembered as told once it is sent, and never told again.
    var covered: [AdminProblem]

    /// Problems listed one by one; the rest are counted, and `herold status` lists them all.
    static let listed = 30

    /// Whether a summary may go now: never within `every` of the last one (sent, or tried).
    static func isDue(now: Date, last: Date?, every: TimeInterval) -> Bool {
        guard let last else { return true }
        return now.timeIntervalSince(last) >= every
    }

    /// How long to wait before looking again: until the period is over, or, when it is,
    /// a short while (news is told within half a minute of the period allowing it).
    static func pause(now: Date, last: Date?, every: TimeInterval) -> TimeInterval {
        let poll = min(every, 30)
        guard let last, !isDue(now: now, last: last, every: every) else { return poll }
        return max(0.01, last.addingTimeInterval(every).timeIntervalSince(now))
    }

    /// The summary of `problems` (those not told before), or nil when there are none.
    /// `describe` writes a moment in local time.
    static func make(problems: [AdminProblem], host: String, now: Date,
                     describe: (Date) -> String) -> AdminSummary? {
        guard !problems.isEmpty else { return nil }
        let paused = problems.filter { $0.kind == .paused }
        let failed = problems.filter { $0.kind == .failed }
        let held = problems.filter { $0.kind == .held }
        var room = listed
        var lines = [
            "Dzień dobry,", "",
            "herold na serwerze \(host) zgłasza problemy z wysyłką, których nie było w poprzednim podsumowaniu",
            "(stan na \(describe(now))).",
        ]
        func section(_ title: String, _ items: [AdminProblem], _ entry: (AdminProblem) -> [String]) {
            guard !items.isEmpty else { return }
            lines += ["", title]
            for item in items.prefix(room) { lines += entry(item) }
            room = max(0, room - items.count)
        }
        section("Zatrzymane kanały — nic do nich nie wychodzi, dopóki konfiguracja nie zostanie poprawiona:", paused) { lane in
            ["- \(lane.destination) (od \(describe(lane.since))), w kolejce: "
                + PolishPlural.counted(lane.waiting, one: "wysyłka", few: "wysyłki", many: "wysyłek"),
             "  Powód: \(lane.reason)",
             "  Po poprawieniu konfiguracji: systemctl reload herold"]
        }
        section("Nieudane wysyłki — nie zostaną ponowione same:", failed) { delivery in
            entry(delivery, describe: describe) + ["  Ponów: herold requeue \(delivery.delivery?.rawValue ?? "?")"]
        }
        section("Wstrzymane wysyłki — czekają na decyzję:", held) { delivery in
            entry(delivery, describe: describe) + ["  Po usunięciu przyczyny: herold release \(delivery.delivery?.rawValue ?? "?")"]
        }
        if problems.count > listed {
            let rest = problems.count - listed
            lines += ["", "…oraz " + PolishPlural.counted(rest, one: "kolejny problem", few: "kolejne problemy", many: "kolejnych problemów")
                + " (wszystkie pokazuje herold status)."]
        }
        lines += ["", "Szczegóły: herold status", "",
                  "-- ", "Wiadomość wysłana automatycznie przez herold; następna najwcześniej po upływie okresu notify.every."]
        let subject = "herold (\(host)): " + PolishPlural.counted(problems.count, one: "problem", few: "problemy", many: "problemów")
            + " z wysyłką"
        return AdminSummary(subject: subject, text: lines.joined(separator: "\n") + "\n", covered: problems)
    }

    /// Two lines on one delivery: what, to whom, from which rule and event, and why.
    private static func entry(_ delivery: AdminProblem, describe: (Date) -> String) -> [String] {
        let what = delivery.destination == .smtp ? "e-mail do \(delivery.recipient ?? "?")"
            : "webhook do \(delivery.recipient ?? delivery.destination.rawValue)"
        return ["- \(what) (reguła \(delivery.rule ?? "?"), zdarzenie \(delivery.eventID ?? "?"), \(describe(delivery.since)))",
                "  Powód: \(delivery.reason)"]
    }
}
