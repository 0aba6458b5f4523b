import Foundation
import HeroldConfig
import HeroldCore
import HeroldTransport
#if canImport(Glibc)
import Glibc
#endif

extension Runtime {
    /// The relay settings for `smtp`: its TLS mode, login, CA file and EHLO name.
    static func smtpSettings(_ smtp: SMTPConfig, url: String, password: String?) -> SMTPSettings {
        var settings = SMTPSettings(
            url: url, tls: SMTPSettings.TLSMode(rawValue: smtp.tls.rawValue) ?? .starttls,
            username: smtp.username, password: password,
            connectTimeout: .seconds(smtp.connectTimeout), totalTimeout: .seconds(smtp.timeout),
            caFile: smtp.caFile?.path)
        settings.ehloName = smtp.helo ?? EHLOName.fallback(hostName: machineName(), sender: smtp.from)
        settings.idleTimeout = .seconds(smtp.idleTimeout)
        applyAuth(smtp, to: &settings)
        return settings
    }

    /// `gethostname()`, as libcurl would send it; nil when it fails.
    static func machineName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
