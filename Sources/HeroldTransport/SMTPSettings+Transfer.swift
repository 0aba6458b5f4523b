import Curl
import Foundation
import HeroldCore

extension SMTPSettings {
    /// The libcurl transfer these settings describe — TLS mode, login (an OAuth token read from
    /// `tokenFile` now, as tokens expire within the hour), EHLO name, idle limit — carrying
    /// `message` from `mailFrom` to `recipient`. The sender and the connection check share it.
    func transfer(mailFrom: String, recipient: String, message: [UInt8]) throws(DeliveryFailure) -> SMTPTransfer {
        let mode: SMTPTransfer.TLS = switch tls {
        case .none: .none
        case .starttls: .starttls
        case .tls: .implicit
        }
        var transfer = SMTPTransfer(
            url: url, mailFrom: mailFrom, recipient: recipient, message: message, tls: mode,
            username: username, password: password,
            timeouts: CurlTimeouts(connect: connectTimeout, total: totalTimeout), caFile: caFile)
        transfer.bearer = bearer
        transfer.ehloName = ehloName
        if let tokenFile {
            guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
                // The refresh helper may be rewriting it; the next attempt will read it again.
                throw DeliveryFailure(kind: .transient, code: "smtp.token",
                                      message: "cannot read the OAuth token from \(tokenFile) (or it is empty)")
            }
            transfer.bearer = token
        }
        transfer.loginOptions = auth?.loginOptions
        transfer.maxIdle = idleTimeout
        return transfer
    }
}
