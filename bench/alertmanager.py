#!/usr/bin/env python3
"""Prometheus Alertmanager's throughput on the sinks herold is measured on, for the README's
"herold ÷ Alertmanager" ratios.

    bench/alertmanager.sh [--alertmanager PATH] [--deliveries 2000] [--webhook-deliveries 10000]
                          [--reps 3] [--batch 64] [--only email|webhook]

Starts Postfix's smtp-sink (with `-c`, its running counters) and nginx (204, with an access
log) on 127.0.0.1, then, in every repetition and for each kind (email, webhook), a fresh
Alertmanager (its own temporary --storage.path, no cluster) whose one route sends every
alert to one receiver: `webhook_configs` to nginx, or `email_configs` to smtp-sink
(`require_tls: false`). The route has `group_by: ['...']` (group by all labels) and
`group_wait: 0s`, `group_interval: 1h`, `repeat_interval: 24h`, so each alert is its own group
and causes exactly one notification, as one herold event causes one delivery.

N alerts (`alertname` plus a unique `n` label) are posted to /api/v2/alerts in batches of 64
(as Prometheus sends them) one after another on one kept HTTP connection. The clock runs from
the first POST until the sink has received N notifications: nginx's access-log lines (one per
request it answered), smtp-sink's `mesg=` counter (one per message whose final "." it got).
The sink is then watched for `--settle` seconds more, and the run fails if it received more or
fewer than N, if Alertmanager's /api/v2/alerts/groups does not hold N groups, or if its own
metrics show a notification that finally failed. Attempts that failed and were retried
(Alertmanager opens one connection per notification, all at once: a large burst overflows the
sink's listen queue) are allowed, counted, and their errors kept in the JSON. CPU seconds
(from /proc/PID/stat, the first POST to the last notification) and peak RSS (VmHWM, start-up
included) are Alertmanager's. Prints medians; writes everything to
bench/results/alertmanager-*.json.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import benchlib as b

KINDS = ("email", "webhook")
ROUTE = """route:
  receiver: bench
  group_by: ['...']
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 24h
receivers:
  - name: bench
"""
RECEIVER = {
    "webhook": """    webhook_configs:
      - url: {url}
        send_resolved: false
        max_alerts: 0
""",
    "email": """    email_configs:
      - to: odbiorca@gops.example.org
        from: powiadomienia@rops.example.org
        smarthost: 127.0.0.1:{port}
        require_tls: false
        send_resolved: false
""",
}


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alertmanager", default="/usr/bin/prometheus-alertmanager",
                   help="the binary (Debian: apt-get install prometheus-alertmanager)")
    p.add_argument("--deliveries", type=int, default=2000,
                   help="alerts, hence emails, per email measurement (as bench/run.sh's herold rows)")
    p.add_argument("--webhook-deliveries", type=int, default=10000,
                   help="alerts, hence webhooks, per webhook measurement (they go ~7x faster than emails)")
    p.add_argument("--reps", type=int, default=3, help="repetitions of every measurement (medians reported)")
    p.add_argument("--batch", type=int, default=64, help="alerts per POST to /api/v2/alerts")
    p.add_argument("--only", choices=KINDS, help="measure one kind only")
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds the sink is watched after the N-th notification for any extra one")
    p.add_argument("--timeout", type=float, default=300, help="seconds allowed for one measurement")
    p.add_argument("--keep", action="store_true", help="keep the temporary folders (config, alertmanager.log)")
    return p.parse_args()


def version(binary):
    out = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    first = out.strip().splitlines()[0] if out.strip() else "?"
    return first.split("(")[0].replace("alertmanager, version", "").strip() or first


class Alertmanager:
    """`prometheus-alertmanager` with a config of ours, its own storage, no cluster (no gossip)."""

    def __init__(self, binary, root, config_text):
        os.makedirs(root)
        self.config = os.path.join(root, "alertmanager.yml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.port = b.free_port()
        self.log = open(os.path.join(root, "alertmanager.log"), "w")
        self.process = subprocess.Popen(
            [binary, f"--config.file={self.config}", f"--storage.path={os.path.join(root, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=", "--log.level=warn"],
            stdout=self.log, stderr=self.log)
        self.pid = self.process.pid
        b.wait_for_port(self.port, self.process, timeout=30)
        self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.wait_ready()

    def request(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.http.request(method, path, body=body, headers=headers)
        reply = self.http.getresponse()
        return reply.status, reply.read()

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while self.request("GET", "/-/ready")[0] != 200:
            if time.monotonic() > deadline:
                raise SystemExit(f"Alertmanager not ready within {timeout} s (see {self.log.name})")
            time.sleep(0.05)

    def post(self, body):
        status, text = self.request("POST", "/api/v2/alerts", body)
        if status != 200:
            raise SystemExit(f"POST /api/v2/alerts answered {status}: {text[:300]!r}")

    def groups(self):
        status, text = self.request("GET", "/api/v2/alerts/groups")
        if status != 200:
            raise SystemExit(f"GET /api/v2/alerts/groups answered {status}")
        return json.loads(text)

    def metrics(self, integration):
        """Its own counters for one integration: notifications sent, failed, and attempts."""
        _, text = self.request("GET", "/metrics")
        wanted = {"alertmanager_notifications_total": "sent", "alertmanager_notifications_failed_total": "failed",
                  "alertmanager_notification_requests_total": "requests",
                  "alertmanager_notification_requests_failed_total": "requests_failed"}
        found = dict.fromkeys(wanted.values(), 0.0)
        for line in text.decode().splitlines():
            name, _, rest = line.partition("{")
            if name in wanted and f'integration="{integration}"' in rest:
                found[wanted[name]] += float(line.rsplit(" ", 1)[1])
        return {key: int(value) for key, value in found.items()}

    def cpu_seconds(self):
        return b.proc_cpu_seconds(self.pid)

    def peak_rss_mib(self):
        return b.proc_status_kib(self.pid, "VmHWM") / 1024

    def close(self):
        self.http.close()
        code = b.stop(self.process)
        self.log.close()
        return code


def retry_reasons(log):
    """Alertmanager's "Notify attempt failed, will retry later" warnings, counted by error
    (ports and addresses left out)."""
    reasons = {}
    with open(log, errors="replace") as f:
        for line in f:
            if "Notify attempt failed" in line and 'err="' in line:
                err = re.sub(r"\d+\.\d+\.\d+\.\d+:\d+", "ADDR", line.split('err="', 1)[1].rstrip().rstrip('"'))
                reasons[err] = reasons.get(err, 0) + 1
    return reasons


def listen_overflows():
    """The kernel's counters (whole network namespace, so other work counts too) of
    connections a full listen queue dropped, and of SYN cookies sent because it was full."""
    with open("/proc/net/netstat") as f:
        lines = [line.split() for line in f if line.startswith("TcpExt:")]
    values = dict(zip(lines[0][1:], map(int, lines[1][1:])))
    return {key: values.get(key, 0) for key in ("ListenOverflows", "SyncookiesSent")}


def batches(n, size, run):
    """The POST bodies: N alerts, `size` per body, each with its own labels (one group each)."""
    starts = b.now_rfc3339()
    alerts = [{"labels": {"alertname": "DzienPracownikaSocjalnego", "run": run, "n": str(i)},
               "annotations": {"summary": f"Życzenia z okazji Dnia Pracownika Socjalnego, nr {i}"},
               "startsAt": starts}
              for i in range(n)]
    return [json.dumps(alerts[i:i + size], ensure_ascii=False).encode() for i in range(0, n, size)]


class Bench:
    def __init__(self, args):
        self.args = args
        self.smtp = b.SmtpSink(counting=True)
        self.nginx = b.Nginx(counting=True)
        self.work = tempfile.mkdtemp(prefix="herold-bench-am-")
        self.count = 0

    def close(self):
        self.smtp.close()
        self.nginx.close()
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def received(self, kind):
        return self.smtp.messages() if kind == "email" else self.nginx.requests()

    def config(self, kind):
        return ROUTE + RECEIVER[kind].format(url=self.nginx.url, port=self.smtp.port)

    def deliveries(self, kind):
        return self.args.deliveries if kind == "email" else self.args.webhook_deliveries

    def run(self, kind):
        n = self.deliveries(kind)
        self.count += 1
        bodies = batches(n, self.args.batch, f"r{self.count}")
        am = Alertmanager(self.args.alertmanager, os.path.join(self.work, f"am{self.count}-{kind}"),
                          self.config(kind))
        try:
            before = self.received(kind)
            overflows0 = listen_overflows()
            cpu0 = am.cpu_seconds()
            started = time.monotonic()
            for body in bodies:
                am.post(body)
            posted = time.monotonic()
            done = self.wait_for(kind, before + n, started)
            cpu = am.cpu_seconds() - cpu0
            overflows = {key: value - overflows0[key] for key, value in listen_overflows().items()}
            peak = am.peak_rss_mib()
            time.sleep(self.args.settle)
            got = self.received(kind) - before
            groups = len(am.groups())
            metrics = am.metrics(kind)
            self.check(kind, n, got, groups, metrics, am.log.name)
            wall = done - started
            return {"deliveries": n, "posts": len(bodies), "seconds": wall, "rate": n / wall,
                    "post_s": posted - started, "cpu_s": cpu, "cpu_ms_per_delivery": 1000 * cpu / n,
                    "peak_rss_mib": peak, "retried": metrics["requests_failed"], "groups": groups,
                    "received": got, "metrics": metrics, "retry_reasons": retry_reasons(am.log.name),
                    "kernel_listen": overflows}
        finally:
            code = am.close()
            if code != 0:
                b.log(f"Alertmanager exited {code} on SIGTERM (see {am.log.name})")

    def wait_for(self, kind, total, started):
        deadline = started + self.args.timeout
        while (now := time.monotonic()) < deadline:
            if self.received(kind) >= total:
                return now
            time.sleep(0.01)
        n = self.deliveries(kind)
        raise SystemExit(f"{kind}: the sink got {self.received(kind) - total + n} of "
                         f"{n} notifications within {self.args.timeout} s")

    @staticmethod
    def check(kind, n, got, groups, metrics, log):
        """Exactly one notification per alert: no fewer (grouped together), no more (repeated,
        or sent twice through a retry), and Alertmanager agrees. An attempt that failed and was
        retried (a connection the sink's listen queue reset) is allowed, and reported."""
        problems = []
        if got != n:
            problems.append(f"the sink received {got} notifications for {n} alerts")
        if groups != n:
            problems.append(f"/api/v2/alerts/groups holds {groups} groups for {n} alerts")
        if metrics["sent"] != n or metrics["failed"] or metrics["requests"] != n + metrics["requests_failed"]:
            problems.append(f"Alertmanager's metrics for {kind}: {metrics}")
        if problems:
            raise SystemExit(f"{kind}: " + "; ".join(problems) + f" (see {log}, run with --keep)")


def summarise(runs):
    rows, medians = [], {}
    for kind, results in runs.items():
        if not results:
            continue
        m = {key: b.median([r[key] for r in results]) for key in results[0]
             if isinstance(results[0][key], (int, float))}
        medians[kind] = m
        rates = [r["rate"] for r in results]
        unit = "emails/s" if kind == "email" else "webhooks/s"
        rows.append([f"alertmanager-{kind}", unit, m["deliveries"], len(rates), m["rate"], min(rates), max(rates),
                     m["seconds"], m["post_s"], m["cpu_s"], m["cpu_ms_per_delivery"], m["peak_rss_mib"],
                     sum(r["retried"] for r in results)])
    headers = ["measurement", "unit", "N", "runs", "median/s", "min/s", "max/s", "wall s", "POSTs s",
               "CPU s", "CPU ms/dlv", "peak RSS MiB", "retried (all runs)"]
    return b.table(headers, rows), medians


def main():
    args = parse()
    b.need("smtp-sink", "nginx")
    if not os.access(args.alertmanager, os.X_OK):
        raise SystemExit(f"no Alertmanager at {args.alertmanager} (Debian: apt-get install prometheus-alertmanager)")
    b.unblock_signals()
    kinds = [args.only] if args.only else list(KINDS)
    info = {"args": vars(args), "machine": b.machine(), "alertmanager": version(args.alertmanager)}
    bench = Bench(args)
    runs = {kind: [] for kind in kinds}
    try:
        for rep in range(args.reps):
            for kind in kinds:
                result = bench.run(kind)
                runs[kind].append(result)
                b.log(f"rep {rep + 1}/{args.reps} alertmanager-{kind}: {result['rate']:.0f}/s in "
                      f"{result['seconds']:.2f} s (POSTs {result['post_s']:.2f} s, CPU {result['cpu_s']:.2f} s, "
                      f"peak RSS {result['peak_rss_mib']:.0f} MiB, {result['retried']} attempts retried"
                      + (f" {result['retry_reasons']}" if result['retried'] else "")
                      + f"; kernel, whole machine: {result['kernel_listen']})")
    finally:
        bench.close()
    info["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    text, medians = summarise(runs)
    print(f"Alertmanager {info['alertmanager']} bench: {args.deliveries} alerts per email measurement, "
          f"{args.webhook_deliveries} per webhook measurement, "
          f"{args.batch} per POST, one notification each (group_by ['...'], group_wait 0s), {args.reps} runs each; "
          f"load {info['machine']['loadavg_1m_at_start']} -> {info['machine']['loadavg_1m_at_end']} "
          f"on {info['machine']['cpus']} CPUs")
    print(text)
    path = b.save("alertmanager", {**info, "medians": medians, "runs": runs})
    print(f"\nraw figures: {path}")


if __name__ == "__main__":
    main()
