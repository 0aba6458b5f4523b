import Foundation
import HeroldCore
import HeroldStore
import XCTest

/// Events and deliveries for the contract tests.
enum Fixtures {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)
    static let tempfail = DeliveryFailure(kind: .transient, code: "smtp.450", message: "mailbox busy")
    static let permfail = DeliveryFailure(kind: .permanent, code: "smtp.550", message: "no such user")

    static func event(_ id: String, source: String = "/cms", subject: String? = nil) throws -> CloudEvent {
        var attributes: [String: JSONValue] = [
            "specversion": .string("1.0"), "id": .string(id), "source": .string(source),
            "type": .string("contest.deadline"),
            "data": .object(["contest": .string("Lider Pomocy Społecznej")]),
        ]
        if let subject { attributes["subject"] = .string(subject) }
        return try CloudEvent(attributes: attributes)
    }

    static func email(_ event: CloudEvent, to recipient: String, at notBefore: Date, rule: String = "r",
                      expiresAt: Date? = nil, text: String = "Zostało 7 dni.") -> Delivery {
        Delivery(id: DeliveryID.derive(event: event.key, rule: rule, action: 0, recipient: recipient, scheduledAt: notBefore),
                 event: event.key, rule: rule, action: 0, channel: .email, recipient: recipient,
                 notBefore: notBefore, state: .pending,
                 payload: .email(EmailContent(from: "ROPS <p@example.org>", to: recipient,
                                              subject: "Przypomnienie", text: text)),
                 expiresAt: expiresAt)
    }

    static func webhook(_ event: CloudEvent, endpoint: String, at notBefore: Date) -> Delivery {
        Delivery(id: DeliveryID.derive(event: event.key, rule: "w", action: 1, recipient: endpoint, scheduledAt: notBefore),
                 event: event.key, rule: "w", action: 1, channel: .webhook, recipient: endpoint,
                 notBefore: notBefore, state: .pending,
                 payload: .webhook(WebhookContent(endpoint: endpoint, contentType: "application/json",
                                                  body: Data(#"{"konkurs":"Lider"}"#.utf8))))
    }

    /// `count` email deliveries of one event, due at t0 + i seconds.
    static func batch(_ id: String, count: Int) throws -> (event: CloudEvent, deliveries: [Delivery]) {
        let event = try event(id)
        return (event, (0..<count).map { email(event, to: "osoba\($0)@example.org", at: t0.addingTimeInterval(Double($0))) })
    }
}

extension DeliveryJournal {
    /// Claims only email, up to `limit`.
    func claimEmail(now: Date, limit: Int, lateness: Lateness = .never) async throws -> JournalClaim {
        try await claim(now: now, limits: [.smtp: limit], others: 0, lateness: lateness)
    }

    func ids(in states: Set<DeliveryState>) async throws -> Set<DeliveryID> {
        Set(try await deliveries(in: states, limit: 100_000).map(\.id))
    }
}
