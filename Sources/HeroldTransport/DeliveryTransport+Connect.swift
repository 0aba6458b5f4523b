import Foundation

extension DeliveryTransport {
    /// `herold check --connect`: one line per destination — the relay (connect, TLS, EHLO,
    /// AUTH; no mail) and each webhook endpoint (DNS, address policy, TCP, TLS; no request),
    /// with the senders' own settings. An outbox is only checked for being writable.
    public func checkConnections() async -> [ConnectionCheckResult] {
        var results: [ConnectionCheckResult] = []
        if let smtp {
            if let outbox = smtp.outbox {
                results.append(Self.outboxResult("smtp outbox", outbox))
            } else if let sender = emailSender as? SMTPSender {
                results.append(await ConnectionCheck.smtp(sender.settings, from: smtp.from.address))
            }
        }
        for (name, endpoint) in endpoints.sorted(by: { $0.key < $1.key }) {
            if let outbox = endpoint.outbox {
                results.append(Self.outboxResult("webhook \(name) outbox", outbox))
            } else if let sender = webhookSenders[name] as? HTTPWebhookSender {
                results.append(await ConnectionCheck.webhook(name: name, url: endpoint.url, allowPrivate: endpoint.allowPrivate,
                                                             settings: sender.settings))
            }
        }
        return results
    }

    /// An outbox is a folder: nothing to connect to, only whether herold can write there.
    private static func outboxResult(_ label: String, _ folder: URL) -> ConnectionCheckResult {
        let writable = FileManager.default.isWritableFile(atPath: folder.path)
        return ConnectionCheckResult(destination: "\(label) \(folder.path)", ok: writable,
                                     detail: writable ? "a folder, nothing to connect to; writable"
                                                      : "a folder, nothing to connect to; herold cannot write there")
    }
}
