import Curl
import Foundation
import HeroldConfig
import HeroldTransport
import Logging

extension Commands {
    /// `herold check --connect`: the config check, then one line per destination — the relay
    /// (connect, TLS, EHLO, AUTH; no mail) and each webhook endpoint (DNS, address policy, TCP,
    /// TLS; no request) — with what works and what does not. Throws 78 for a bad config; the
    /// caller exits 69 (EX_UNAVAILABLE) when a destination does not work.
    public static func checkConnections(configPath: String) async throws(CommandFailure) -> (summary: String, results: [ConnectionCheckResult]) {
        let summary = try check(configPath: configPath)
        let engine: CurlEngine
        do {
            engine = try CurlEngine(threads: 1)
        } catch {
            throw CommandFailure(.ioError, "cannot start libcurl: \(error)")
        }
        defer { engine.shutdown() }
        let runtime: Runtime
        do {
            runtime = try Runtime.load(configPath: configPath, logger: Logger(label: "herold.check"), curl: engine)
        } catch {
            throw CommandFailure(.config, describe(error))
        }
        var results: [ConnectionCheckResult] = []
        if let smtp = runtime.config.smtp {
            if let outbox = smtp.outbox {
                results.append(outboxResult("smtp outbox", outbox))
            } else if let sender = runtime.emailSender as? SMTPSender {
                results.append(await ConnectionCheck.smtp(sender.settings, from: smtp.from.address))
            }
        }
        for (name, endpoint) in runtime.config.webhooks.sorted(by: { $0.key < $1.key }) {
            if let outbox = endpoint.outbox {
                results.append(outboxResult("webhook \(name) outbox", outbox))
            } else if let sender = runtime.webhookSenders[name] as? HTTPWebhookSender {
                results.append(await ConnectionCheck.webhook(name: name, url: endpoint.url, allowPrivate: endpoint.allowPrivate,
                                                             settings: sender.settings))
            }
        }
        return (summary, results)
    }

    /// An outbox is a folder: nothing to connect to, only whether herold can write there.
    private static func outboxResult(_ label: String, _ folder: URL) -> ConnectionCheckResult {
        let writable = FileManager.default.isWritableFile(atPath: folder.path)
        return ConnectionCheckResult(destination: "\(label) \(folder.path)", ok: writable,
                                     detail: writable ? "a folder, nothing to connect to; writable"
                                                      : "a folder, nothing to connect to; herold cannot write there")
    }
}
