import Foundation
import XCTest

/// A herold installation in a temp folder: config, templates, secret, spool and state,
/// pointed at real SMTP and HTTP servers on 127.0.0.1.
struct TestSite {
    let root: URL
    var configPath: String { root.appendingPathComponent("herold.yaml").path }
    var spoolNew: URL { root.appendingPathComponent("spool/new") }
    var spoolTmp: URL { root.appendingPathComponent("spool/tmp") }
    var rejected: URL { root.appendingPathComponent("spool/rejected") }
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    static let laureatesSubject = "Laureaci konkursu „{{data.contest}}” — edycja {{data.edition}}: gratulujemy zwycięzcom z Małopolski i dziękujemy wszystkim uczestnikom"
    static let laureatesText = """
    Szanowni Państwo,

    z radością informujemy o laureatach konkursu „{{data.contest}}”:
    {{#data.laureates}}
    - {{name}} / {{institution}}: {{award}}
    {{/data.laureates}}

    Z poważaniem
    Regionalny Ośrodek Polityki Społecznej w Krakowie

    """

    init(name: String, smtpPort: Int, httpPort: Int, extraYAML: String = "") throws {
        root = try makeTemporaryDirectory(name)
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("secrets"), withIntermediateDirectories: true)
        try Self.secret.write(to: root.appendingPathComponent("secrets/hub.whsec"), atomically: true, encoding: .utf8)
        let templates = root.appendingPathComponent("templates/laureaci")
        try fm.createDirectory(at: templates, withIntermediateDirectories: true)
        try Self.laureatesSubject.write(to: templates.appendingPathComponent("subject.mustache"), atomically: true, encoding: .utf8)
        try Self.laureatesText.write(to: templates.appendingPathComponent("text.mustache"), atomically: true, encoding: .utf8)
        let yaml = """
        timezone: Europe/Warsaw
        spool: ./spool
        state: ./state
        smtp:
          url: smtp://127.0.0.1:\(smtpPort)
          tls: none
          from: "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>"
          connect_timeout: 5
          timeout: 20
        webhooks:
          partnerzy-hub:
            url: http://127.0.0.1:\(httpPort)/hook
            secret_file: secrets/hub.whsec
            allow_private: true
            connect_timeout: 5
            timeout: 10
        recipients:
          partners: [rops@example.org, "kwp@example.org"]
        rules:
          - name: oglos-laureatow
            match: { type: laureates.announced }
            send:
              - email: { to: [partners], template: laureaci }
              - webhook: { endpoint: partnerzy-hub }
        \(extraYAML)
        """
        try yaml.write(to: root.appendingPathComponent("herold.yaml"), atomically: true, encoding: .utf8)
    }

    /// A laureates event as a CMS would write it.
    static func laureatesEvent(id: String, edition: String = "X") -> String {
        """
        {"specversion":"1.0","id":"\(id)","source":"https://rops.example.org/konkursy",
         "type":"laureates.announced","time":"2026-11-23T10:00:00+01:00",
         "datacontenttype":"application/json",
         "data":{"contest":"Przeciw przemocy","edition":"\(edition)","laureates":[
           {"name":"Gmina Miejska Kraków","institution":"Miejski Ośrodek Pomocy Społecznej w Krakowie","award":"nagroda dla najlepszej gminy","reason":"szerokie spektrum działań"},
           {"name":"Powiat Limanowski","institution":"Powiatowe Centrum Pomocy Rodzinie w Limanowej","award":"nagroda dla najlepszego powiatu","reason":"konsekwentne działania"}]}}
        """
    }

    /// The text the template gives for `laureatesEvent`, written out by hand.
    static func expectedLaureatesText() -> String {
        """
        Szanowni Państwo,

        z radością informujemy o laureatach konkursu „Przeciw przemocy”:
        - Gmina Miejska Kraków / Miejski Ośrodek Pomocy Społecznej w Krakowie: nagroda dla najlepszej gminy
        - Powiat Limanowski / Powiatowe Centrum Pomocy Rodzinie w Limanowej: nagroda dla najlepszego powiatu

        Z poważaniem
        Regionalny Ośrodek Polityki Społecznej w Krakowie
        """
    }

    static func expectedLaureatesSubject(edition: String = "X") -> String {
        "Laureaci konkursu „Przeciw przemocy” — edycja \(edition): gratulujemy zwycięzcom z Małopolski i dziękujemy wszystkim uczestnikom"
    }

    /// Drops a file into `new/` the way the protocol says: write in tmp/, then rename.
    func drop(_ contents: String, as name: String) throws {
        try FileManager.default.createDirectory(at: spoolTmp, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: spoolNew, withIntermediateDirectories: true)
        let tmp = spoolTmp.appendingPathComponent(name)
        try contents.write(to: tmp, atomically: false, encoding: .utf8)
        guard rename(tmp.path, spoolNew.appendingPathComponent(name).path) == 0 else {
            throw HarnessError("rename failed: \(errno)")
        }
    }

    func startDaemon(notify: NotifySocket) throws -> BackgroundProcess {
        let daemon = try BackgroundProcess(
            executable: heroldBinary, arguments: ["serve", "--config", configPath],
            environment: ["NOTIFY_SOCKET": notify.path])
        guard notify.waitFor("READY=1") else {
            throw HarnessError("herold serve never said READY=1; it printed:\n\(daemon.output)")
        }
        return daemon
    }

    func newFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: spoolNew.path)) ?? []).filter { !$0.hasPrefix(".") }
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}
