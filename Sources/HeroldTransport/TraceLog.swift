import Curl
import Logging

/// At `debug`, a transfer's TLS version, peer certificate and SMTP replies go to the log, one
/// record each (`tls`, `tls.subject`, `tls.issuer`, `smtp.reply`). Never a command the client
/// sent, nor an AUTH challenge: the log holds no secret.
enum TraceLog {
    /// The trace for a transfer logged by `logger`; nil above `debug`, so curl's notes cost nothing.
    static func trace(to logger: Logger) -> CurlTrace? {
        guard logger.logLevel <= .debug else { return nil }
        return { line in
            switch line {
            case .tls(let version): logger.debug("TLS connection", metadata: ["tls": "\(version)"])
            case .certificateSubject(let subject): logger.debug("peer certificate", metadata: ["tls.subject": "\(subject)"])
            case .certificateIssuer(let issuer): logger.debug("peer certificate issuer", metadata: ["tls.issuer": "\(issuer)"])
            case .reply(let reply): logger.debug("smtp reply", metadata: ["smtp.reply": "\(reply)"])
            }
        }
    }
}
