import Foundation
import Yams

extension ConfigReader {
    static let metricsKeys = ["listen", "textfile", "interval", "allow_remote"]

    /// `metrics: { listen: 127.0.0.1:9464, textfile: /var/lib/node_exporter/textfile/herold.prom,
    /// interval: 10s, allow_remote: false }` — at least one of `listen` and `textfile`.
    func readMetrics(_ node: Node) -> MetricsConfig {
        var metrics = MetricsConfig()
        guard let fields = fields(node, at: "metrics", known: Self.metricsKeys) else { return metrics }
        if let value = fields["allow_remote"], let allow = bool(value, at: "metrics.allow_remote") {
            metrics.allowRemote = allow
        }
        if let value = fields["listen"] { metrics.listen = listenAddress(value, allowRemote: metrics.allowRemote) }
        if let value = fields["textfile"], let url = path(value, at: "metrics.textfile") {
            if url.pathExtension == "prom" {
                metrics.textfile = url
            } else {
                issue(value, "metrics.textfile: \(url.path) does not end in .prom; node-exporter's textfile collector reads only *.prom files",
                      fix: "name the file e.g. /var/lib/node_exporter/textfile/herold.prom")
            }
        }
        if let value = fields["interval"], let seconds = duration(value, at: "metrics.interval", in: 1...300) {
            metrics.interval = seconds
        }
        if fields["listen"] == nil, fields["textfile"] == nil {
            issue(section: "metrics", node, "metrics: neither listen nor textfile is given, so nothing would be exposed",
                  fix: "add listen: 127.0.0.1:9464 (Prometheus scrapes herold), textfile: PATH.prom (node-exporter reads it), or both")
        }
        return metrics
    }

    private func listenAddress(_ node: Node, allowRemote: Bool) -> ListenAddress? {
        guard let text = string(node, at: "metrics.listen") else { return nil }
        let address: ListenAddress
        switch ListenAddress.parse(text) {
        case .success(let parsed): address = parsed
        case .failure(.form):
            issue(node, "metrics.listen: \"\(text)\" is not HOST:PORT", fix: "write e.g. 127.0.0.1:9464, or \"[::1]:9464\" for IPv6")
            return nil
        case .failure(.host(let host)):
            issue(node, "metrics.listen: \"\(host)\" is not a literal IP address (names are not looked up)",
                  fix: "write the address, e.g. 127.0.0.1:9464 for this machine only")
            return nil
        case .failure(.port(let port)):
            issue(node, "metrics.listen: port \"\(port)\" is not a number from 1 to 65535", fix: "write e.g. 127.0.0.1:9464")
            return nil
        }
        guard address.isLoopback || allowRemote else {
            issue(node, "metrics.listen: \(address) is not a loopback address; the metrics endpoint has no password and no TLS",
                  fix: "listen on 127.0.0.1 (scrape through a proxy or node-exporter's textfile), or add allow_remote: true under metrics and limit who can reach the port")
            return nil
        }
        return address
    }
}
