import Foundation
import HeroldCore
@testable import HeroldStore

/// Events and deliveries that name people, as the example config's rules would make them.
enum PersonalDataFixtures {
    static let key = RecipientPseudonym(key: Array(repeating: 7, count: 32))

    /// An event naming `person` (`Name <address>`) in its data, with a realistic body.
    static func event(_ id: String, person: String, address: String, source: String = "https://rops.example.org/konkursy",
                      subject: String? = nil) throws -> CloudEvent {
        var attributes: [String: JSONValue] = [
            "specversion": .string("1.0"), "id": .string(id), "source": .string(source),
            "type": .string("contest.deadline"),
            "data": .object([
                "contest": .string("Lider Pomocy Społecznej 2026"),
                "deadline": .string("2026-12-15"),
                "organizer": .string("Regionalny Ośrodek Polityki Społecznej w Krakowie"),
                "recipients": .array([.string("\(person) <\(address)>")]),
                "note": .string("Prosimy o przesłanie zgłoszenia wraz z uzasadnieniem i opinią kierownika jednostki."),
            ]),
        ]
        if let subject { attributes["subject"] = .string(subject) }
        return try CloudEvent(attributes: attributes)
    }

    /// One email to `address` for `event`, due at `due`.
    static func email(_ event: CloudEvent, person: String, address: String, due: Date, rule: String = "przypomnienia",
                      text: String? = nil) -> Delivery {
        let body = text ?? """
            Szanowna Pani / Szanowny Panie \(person),

            przypominamy, że termin zgłoszeń do konkursu „Lider Pomocy Społecznej 2026” mija 15 grudnia 2026 r.
            Zgłoszenia prosimy przesyłać przez formularz na stronie Regionalnego Ośrodka Polityki Społecznej
            w Krakowie. W razie pytań prosimy o kontakt z działem konkursów.

            Z poważaniem
            Regionalny Ośrodek Polityki Społecznej w Krakowie
            """
        return Delivery(
            id: DeliveryID.derive(event: event.key, rule: rule, action: 0, recipient: address, scheduledAt: due),
            event: event.key, rule: rule, action: 0, channel: .email, recipient: address, notBefore: due, state: .pending,
            payload: .email(EmailContent(from: "Powiadomienia ROPS <powiadomienia@rops.example.org>",
                                         to: "\(person) <\(address)>", subject: "Przypomnienie: zostało 7 dni", text: body)))
    }

    /// The journal's files (main, -wal, -shm) as one byte string, lower-cased (ASCII).
    static func rawBytes(of journal: Journal) -> Data {
        var all = Data()
        for suffix in ["", "-wal", "-shm"] {
            if let data = FileManager.default.contents(atPath: journal.path + suffix) { all.append(data) }
        }
        return Data(all.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
    }

    /// Bytes of the journal's files on disk.
    static func size(of journal: Journal) -> Int {
        ["", "-wal"].reduce(0) { total, suffix in
            let attributes = try? FileManager.default.attributesOfItem(atPath: journal.path + suffix)
            return total + ((attributes?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }
}
