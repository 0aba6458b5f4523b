import Foundation
import HeroldCore
import Yams

extension ConfigReader {
    static let smtpRelayKeys = ["helo", "ca_file"]

    /// `helo` and `ca_file`, and the rule that credentials never travel in plain text to another
    /// machine; false when one of them is wrong.
    func readSMTPRelay(_ smtp: Fields, host: String?, into config: inout SMTPConfig) -> Bool {
        var ok = true
        if let node = smtp["helo"], let name = string(node, at: "smtp.helo") {
            if let problem = EHLOName.problem(name) {
                issue(node, "smtp.helo: \"\(name)\" \(problem)",
                      fix: "write the name the relay knows this machine by, e.g. herold.example.org, or an address literal such as [192.0.2.10]")
                ok = false
            } else {
                config.helo = name
            }
        } else if smtp["helo"] != nil {
            ok = false
        }
        if let node = smtp["ca_file"] {
            config.caFile = path(node, at: "smtp.ca_file")
            if config.caFile == nil { ok = false }
            if config.url != nil, config.tls == .none {
                issue(node, "smtp.ca_file is only used with TLS, but smtp.tls is none",
                      fix: "set tls: starttls (or tls: tls with smtps://), or remove ca_file")
                ok = false
            }
        }
        let credentials = ["username", "password_file", "token_file"].filter { smtp[$0] != nil }
        if config.tls == .none, let host, !LoopbackHost.contains(host), !credentials.isEmpty {
            issue(smtp["tls"] ?? smtp.node,
                  "smtp.tls: none would send the login (\(credentials.joined(separator: ", "))) unencrypted to \(host)",
                  fix: "use tls: starttls (smtp://\(host):587) or tls: tls (smtps://\(host):465); plain text is allowed only to 127.0.0.1, ::1 or localhost")
            ok = false
        }
        return ok
    }
}
