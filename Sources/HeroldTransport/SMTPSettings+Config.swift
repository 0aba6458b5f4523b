import Foundation
import HeroldConfig
import HeroldCore
#if canImport(Glibc)
import Glibc
#endif

extension SMTPSettings {
    /// The relay settings `herold.yaml`'s `smtp:` section gives: TLS mode, login (the token
    /// itself is read by the sender for every message: tokens expire within the hour), CA file,
    /// EHLO name, idle limit and sessions at once.
    init(_ smtp: SMTPConfig, url: String, password: String?) {
        self.init(url: url, tls: TLSMode(rawValue: smtp.tls.rawValue) ?? .starttls,
                  username: smtp.username, password: password,
                  connectTimeout: .seconds(smtp.connectTimeout), totalTimeout: .seconds(smtp.timeout),
                  caFile: smtp.caFile?.path)
        ehloName = smtp.helo ?? EHLOName.fallback(hostName: Self.machineName(), sender: smtp.from)
        idleTimeout = .seconds(smtp.idleTimeout)
        maxConnections = smtp.maxConnections
        auth = smtp.auth.flatMap { SMTPAuthMechanism(rawValue: $0.rawValue) }
        tokenFile = smtp.tokenFile?.path
    }

    /// `gethostname()`, as libcurl would send it; nil when it fails.
    public static func machineName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
