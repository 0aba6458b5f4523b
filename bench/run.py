#!/usr/bin/env python3
"""Throughput of herold's full durable path against the real tools, in the same run.

    bench/run.sh [--herold PATH] [--deliveries 2000] [--baseline-deliveries 20000] [--reps 3] [--perf] ...

Starts Postfix's smtp-sink and nginx (204) on 127.0.0.1, then, in every repetition:
  smtp-source -s 8 -d    M emails to smtp-sink (8 sessions, each reused)      baseline, emails/s
  herold email, 1/file   spool file -> journal -> SMTP -> journal, N emails
  herold email, batch    the same with B events per spool file (a CloudEvents batch)
  curl --parallel-max 16 M POSTs to nginx                                       baseline, webhooks/s
  herold webhook, 1/file / batch                                                 as above, to nginx
  herold ingest, 1/file / batch  N events (one email each) into the journal while the relay
                         (another smtp-sink) is paused: events/s from spool to journal alone
Each herold measurement is a fresh site and a fresh `herold serve` (waited for READY=1); the
clock runs from the first rename into spool/new until the journal says every delivery is
sent. Prints medians, ratios to the baseline of the same run, herold's CPU seconds and peak
RSS, and writes everything to bench/results/run-*.json. With --perf it also records one
`perf record -g` profile of an email run and a webhook run (bench/results/perf-*.txt,
and the perf-*.data beside them).

With --postgres URL (a server where the bench may create and drop databases) every herold
row is followed, in the same repetition, by the same measurement on PostgreSQL (`-pg`, a
fresh database each time), and the webhook row one per file also by two nodes on one
database (`-pg-2nodes`, the events split half and half between their spools).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import alertmanager
import benchlib as b
import pgjournal
import pgwire

RULES = """  - name: greeting
    match: { type: bench.email }
    send:
      - email: { to: [bench], template: greeting }
  - name: hub
    match: { type: bench.webhook }
    send:
      - webhook: { endpoint: hub }"""


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--herold", help="the built binary (default .build/release/herold)")
    p.add_argument("--deliveries", type=int, default=2000, help="emails, and webhooks, per measurement")
    p.add_argument("--baseline-deliveries", type=int, default=20000,
                   help="messages per baseline measurement (they run ~50x faster: 2000 would time mostly start-up)")
    p.add_argument("--reps", type=int, default=3, help="repetitions of every measurement (medians reported)")
    p.add_argument("--recipients", type=int, default=4, help="emails per email event (one rule, one list)")
    p.add_argument("--batch", type=int, default=50, help="events per spool file in the batch runs")
    p.add_argument("--smtp-connections", type=int, default=8,
                   help="herold's smtp.max_connections and smtp-source's -s (default 8, as in the issue)")
    p.add_argument("--relay-delay", type=int, default=0, metavar="SECONDS",
                   help="smtp-sink sits this many whole seconds on each reply to the end of DATA, as a relay with "
                        "a content filter does (for smtp-source and herold alike; use small --deliveries)")
    p.add_argument("--curl-parallel", type=int, default=16, help="curl --parallel-max")
    p.add_argument("--webhook-connections", type=int, default=16,
                   help="the endpoint's webhooks.NAME.max_connections (default 16, as curl --parallel-max)")
    p.add_argument("--postgres", metavar="URL",
                   help="also measure herold on PostgreSQL: a server where the bench may create and drop "
                        "databases (scripts/pg-test-cluster.sh start DIR starts a throwaway one)")
    p.add_argument("--alertmanager", nargs="?", const="/usr/bin/prometheus-alertmanager", metavar="PATH",
                   help="also measure Prometheus Alertmanager (bench/alertmanager.py) in every repetition, after "
                        "each baseline, and give herold's rows a ratio to it (apt-get install prometheus-alertmanager)")
    p.add_argument("--alertmanager-emails", type=int, default=2000,
                   help="alerts per Alertmanager email measurement (it opens a connection per email, all at once: "
                        "more overflow smtp-sink's listen queue); its webhook measurements take --deliveries")
    p.add_argument("--only", default="", help="comma-separated subset of: " + ",".join(measures(True, True)))
    p.add_argument("--timeout", type=float, default=600, help="seconds allowed for one herold measurement")
    p.add_argument("--perf", action="store_true", help="also profile one email and one webhook run with perf")
    p.add_argument("--perf-only", action="store_true", help="only the perf profiles, no timed repetitions")
    p.add_argument("--keep", action="store_true", help="keep the temporary sites (for their herold.log)")
    return p.parse_args()


class Bench:
    def __init__(self, args):
        self.args = args
        self.herold = b.herold_binary(args.herold)
        self.smtp = b.SmtpSink(data_delay=args.relay_delay)
        self.nginx = b.Nginx()
        self.pg = pgjournal.Server(args.postgres) if args.postgres else None
        self.am = alertmanager.Bench(argparse.Namespace(
            alertmanager=args.alertmanager, deliveries=args.alertmanager_emails, webhook_deliveries=args.deliveries,
            batch=64, settle=2.0, timeout=args.timeout, keep=args.keep)) if args.alertmanager else None
        self.paused = b.SmtpSink()
        self.paused.pause()
        self.work = tempfile.mkdtemp(prefix="herold-bench-")
        self.count = 0
        self.message_bytes, self.body_file = self.sample_sizes()

    def close(self):
        self.smtp.close()
        if self.am:
            self.am.close()
        self.paused.close()
        self.nginx.close()
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def site(self, top_extra=""):
        self.count += 1
        root = os.path.join(self.work, f"site{self.count}")
        extra = f"  max_connections: {self.args.smtp_connections}\n"
        config = b.write_site(root, self.smtp.url, {"hub": self.nginx.url}, RULES,
                              recipient_count=self.args.recipients, smtp_extra=extra, top_extra=top_extra,
                              hook_extra=f"    max_connections: {self.args.webhook_connections}\n")
        return root, config

    def sample_sizes(self):
        """What herold sends for one event (`herold preview --json`): the email's size, for
        smtp-source -l, and the webhook body, for curl -d, so the baselines move the same bytes."""
        root, config = self.site()
        path = os.path.join(root, "sample.json")
        sizes = {}
        for kind in ("email", "webhook"):
            with open(path, "w", encoding="utf-8") as f:
                json.dump(b.event(0, f"bench.{kind}", "sample", b.now_rfc3339()), f, ensure_ascii=False)
            out = subprocess.run([self.herold, "preview", "--json", "--config", config, path],
                                 capture_output=True, text=True, check=True).stdout
            items = json.loads(out)
            items = items.get("messages", items) if isinstance(items, dict) else items
            sizes[kind] = items[0]
        body_file = os.path.join(self.work, "body.json")
        with open(body_file, "w", encoding="utf-8") as f:
            f.write(sizes["webhook"]["body"])
        return len(sizes["email"]["message"].encode()), body_file

    # ---------------------------------------------------------------- baselines

    def smtp_source(self):
        n = self.args.baseline_deliveries
        wall, cpu, rss, code, _ = b.run_rusage([
            "smtp-source", "-s", str(self.args.smtp_connections), "-d", "-m", str(n),
            "-l", str(self.message_bytes), "-f", "powiadomienia@rops.example.org",
            "-t", "odbiorca@gops.example.org", f"127.0.0.1:{self.smtp.port}"])
        if code != 0:
            raise SystemExit(f"smtp-source exited {code}")
        return {"deliveries": n, "seconds": wall, "rate": n / wall, "cpu_s": cpu, "peak_rss_mib": rss}

    def curl(self):
        n = self.args.baseline_deliveries
        wall, cpu, rss, code, out = b.run_rusage([
            "curl", "-s", "--parallel", "--parallel-max", str(self.args.curl_parallel),
            "-H", "Content-Type: application/cloudevents+json", "--data-binary", f"@{self.body_file}",
            "-o", "/dev/null", "-w", "%{http_code}\n", f"{self.nginx.url}/[1-{n}]"], capture=True)
        answered = out.split().count("204")
        if code != 0 or answered != n:
            raise SystemExit(f"curl exited {code}, {answered} of {n} answered 204")
        return {"deliveries": n, "seconds": wall, "rate": n / wall, "cpu_s": cpu, "peak_rss_mib": rss}

    # ------------------------------------------------------------------- herold

    def ingest_site(self, top_extra=""):
        """A site whose relay is a paused smtp-sink: one email per event, never sent."""
        self.count += 1
        root = os.path.join(self.work, f"site{self.count}")
        return root, b.write_site(root, self.paused.url, {"hub": self.nginx.url}, RULES, recipient_count=1,
                                  smtp_extra="  timeout: 3600\n", top_extra="shutdown_timeout: 1s\n" + top_extra)

    def herold_run(self, kind, per_file, perf=None, nodes=0):
        """`kind` email or webhook: until all are sent; ingest: until all are in the journal.
        `nodes` 0: one herold on its SQLite journal; 1 or more: that many `herold serve` on
        one fresh PostgreSQL database, each with its own spool, the events split evenly."""
        per_event = self.args.recipients if kind == "email" else 1
        events_n = self.args.deliveries // per_event
        expected = events_n * per_event
        database = self.pg.create() if nodes else None
        make = self.ingest_site if kind == "ingest" else self.site
        sites = [make(pgjournal.journal_yaml(database, f"bench-{chr(97 + n)}") if nodes else "")
                 for n in range(max(nodes, 1))]
        herolds = []
        try:
            for _, config in sites:
                herolds.append(b.Herold(self.herold, config))
            stamp = b.now_rfc3339()
            type_ = "bench.email" if kind == "ingest" else f"bench.{kind}"
            events = [b.event(i, type_, f"r{self.count}", stamp) for i in range(events_n)]
            share = -(-events_n // len(sites))
            drops = [b.Drop(os.path.join(root, "spool"), events[n * share:(n + 1) * share], per_file)
                     for n, (root, _) in enumerate(sites)]
            journal = pgjournal.Journal(database) if nodes else b.Journal(herolds[0].journal_path)
            server_cpu = pgjournal.ServerCpu(journal) if nodes else None
            recorder = self.start_perf(herolds[0].pid, perf) if perf else None
            cpu0, switches0 = self.herold_cpu(herolds)
            if server_cpu:
                server_cpu.start()
            started = drops[0].go() if len(drops) == 1 else b.Drop.go_together(drops)
            if kind == "ingest":
                spools = [drop.new for drop in drops]
                ingested = done = b.wait_in_journal(journal, expected, spools, self.args.timeout)
            else:
                ingested, done = b.wait_all_sent(journal, expected, self.args.timeout)
            cpu1, switches1 = self.herold_cpu(herolds)
            pg_cpu = server_cpu.stop() if server_cpu else None
            cpu, switches = cpu1 - cpu0, switches1 - switches0
            peak = max(herold.peak_rss_mib() for herold in herolds)
            if recorder:
                b.stop(recorder, signal.SIGINT)
            journal.close()
            status = json.loads(herolds[0].command("status", "--json")[4])
            counts = status["counts"]
            if sum(counts.values()) != expected or (kind != "ingest" and counts.get("sent") != expected):
                raise SystemExit(f"herold status says {counts}, expected {expected} deliveries")
            wall = done - started
            rate = (events_n if kind == "ingest" else expected) / wall
            result = {"deliveries": expected, "events": events_n, "files": sum(d.files for d in drops),
                      "seconds": wall, "rate": rate, "in_journal_s": ingested - started, "drop_s": drops[0].seconds,
                      "cpu_s": cpu, "cpu_ms_per_delivery": 1000 * cpu / expected, "peak_rss_mib": peak,
                      "context_switches_per_delivery": switches / expected, "ready_s": herolds[0].ready_seconds}
            if nodes:
                result.update(nodes=nodes, pg_cpu_s=pg_cpu)
            return result
        finally:
            for herold, (root, _) in zip(herolds, sites):
                code = herold.close()
                if code != 0:
                    b.log(f"herold exited {code} on SIGTERM (see {root}/herold.log)")
            if database and not self.args.keep:
                self.pg.drop(database)

    @staticmethod
    def herold_cpu(herolds):
        """CPU seconds and context switches of all the nodes together."""
        return sum(h.cpu_seconds() for h in herolds), sum(h.context_switches() for h in herolds)

    def start_perf(self, pid, data):
        recorder = subprocess.Popen(["perf", "record", "-g", "-o", data, "-p", str(pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)   # perf needs a moment to attach to every thread
        return recorder


MEASURES = ["smtp-source", "herold-email-file", "herold-email-batch",
            "curl", "herold-webhook-file", "herold-webhook-batch", "herold-ingest-file", "herold-ingest-batch"]
BASELINE = {"herold-email-file": "smtp-source", "herold-email-batch": "smtp-source",
            "herold-webhook-file": "curl", "herold-webhook-batch": "curl"}
TWO_NODES = "herold-webhook-file-pg-2nodes"   # two `herold serve` on one PostgreSQL journal
# With --alertmanager: Alertmanager's row of the same kind, run right after the baseline.
ALERTMANAGER = {"smtp-source": "alertmanager-email", "curl": "alertmanager-webhook"}


def measures(postgres, alertmanager=False):
    """The rows in the order they run: with PostgreSQL, each herold row is followed by the
    same on PostgreSQL (`-pg`), and webhooks one per file also by two nodes; with
    Alertmanager, each baseline by Alertmanager's row of its kind."""
    names = []
    for name in MEASURES:
        names.append(name)
        if alertmanager and name in ALERTMANAGER:
            names.append(ALERTMANAGER[name])
        if postgres and name.startswith("herold-"):
            names.append(name + "-pg")
            if TWO_NODES.startswith(name + "-pg-"):
                names.append(TWO_NODES)
    return names


def sqlite_row(name):
    """herold-webhook-file-pg(-2nodes) -> herold-webhook-file."""
    return name.split("-pg")[0]


def measure(bench, name):
    if name == "smtp-source":
        return bench.smtp_source()
    if name == "curl":
        return bench.curl()
    if name.startswith("alertmanager-"):
        return bench.am.run(name.split("-", 1)[1])
    _, kind, mode, *pg = name.split("-")
    nodes = 0 if not pg else 2 if pg[-1] == "2nodes" else 1
    return bench.herold_run(kind, 1 if mode == "file" else bench.args.batch, nodes=nodes)


def summarise(runs, args):
    rows, medians = [], {}
    for name in measures(args.postgres, bool(args.alertmanager)):
        if not runs.get(name):
            continue
        m = {key: b.median([r[key] for r in runs[name] if r[key] is not None]) for key in runs[name][0]
             if runs[name][0][key] is None or isinstance(runs[name][0][key], (int, float))}
        medians[name] = m
    for name, m in medians.items():
        base = medians.get(BASELINE.get(sqlite_row(name), ""), {}).get("rate")
        m["ratio_to_baseline"] = m["rate"] / base if base and sqlite_row(name) in BASELINE else None
        unit = ("events/s" if "ingest" in name else "emails/s" if "email" in name or name == "smtp-source"
                else "webhooks/s")
        rates = [r["rate"] for r in runs[name]]
        row = [name, unit, len(rates), m["rate"], min(rates), max(rates), m["ratio_to_baseline"],
               m["seconds"], m["cpu_s"], m.get("cpu_ms_per_delivery"), m["peak_rss_mib"],
               m.get("context_switches_per_delivery"), m.get("in_journal_s")]
        if args.alertmanager:
            baseline = BASELINE.get(sqlite_row(name))
            am = medians.get(ALERTMANAGER.get(baseline, ""), {}).get("rate")
            m["ratio_to_alertmanager"] = m["rate"] / am if am else None
            row[7:7] = [m["ratio_to_alertmanager"]]
        if args.postgres:
            sqlite = medians.get(sqlite_row(name), {}).get("rate") if name != sqlite_row(name) else None
            m["ratio_to_sqlite"] = m["rate"] / sqlite if sqlite else None
            row[7:7] = [m["ratio_to_sqlite"]]
            row[10:10] = [m.get("pg_cpu_s")]
        rows.append(row)
    headers = ["measurement", "unit", "runs", "median/s", "min/s", "max/s", "x baseline", "wall s",
               "CPU s", "CPU ms/dlv", "peak RSS MiB", "ctx sw/dlv", "in journal s"]
    if args.alertmanager:
        headers[7:7] = ["x Alertmanager"]
    if args.postgres:
        headers[7:7] = ["x SQLite"]
        headers[10:10] = ["PG CPU s"]
    return b.table(headers, rows), medians


def postgres_lines(medians):
    """PostgreSQL ÷ SQLite per row, and two nodes ÷ one node, from the medians of this run."""
    pairs = [f"{sqlite_row(name)[len('herold-'):]} {fmt_ratio(m.get('ratio_to_sqlite'))}"
             for name, m in medians.items() if name.endswith("-pg")]
    lines = ["PostgreSQL ÷ SQLite (median rates, same run): " + (", ".join(pairs) or "-")]
    two, one = medians.get(TWO_NODES), medians.get(TWO_NODES.replace("-2nodes", ""))
    if two and one:
        lines.append(f"two nodes ÷ one node on PostgreSQL (webhooks, one event per file): "
                     f"{fmt_ratio(two['rate'] / one['rate'])}; herold CPU ms/dlv {one['cpu_ms_per_delivery']:.2f} "
                     f"-> {two['cpu_ms_per_delivery']:.2f} (both nodes together)")
    return lines


def fmt_ratio(value):
    return "-" if value is None else f"{value:.2f}"


PERF_VIEWS = (("self time by symbol (all threads)", ["--no-children", "--sort", "dso,sym", "--percent-limit", "0.3"]),
              ("self time by library", ["--no-children", "--sort", "dso"]),
              ("self time by thread", ["--no-children", "--sort", "comm"]),
              ("inclusive time (with children) by symbol", ["--children", "--sort", "sym", "--percent-limit", "1"]))
# Inclusive time of the places the issue asks about, picked out of the children view.
# (libsqlite3 and libcurl are built without frame pointers, so time inside them is seen as
# self time only: see the SQLite section for how it splits.)
HOT_SPOTS = ("EmailComposer.compose(", "QuotedPrintable.encode(", "LogfmtHandler.log(", "DateFormatter.string(",
             "CFDateFormatterCreate", "udat_open", "Ingestor.ingest(", "Runtime.plan(", "Runtime.transmit(",
             "Dispatcher.deliver(", "Journal.claim(", "Journal.record(", "Journal.recordReplacing(",
             "Mailbox.validate(", "JSONDecoder.decode<", "JSONEncoder.encode<", "WebhookSignature", "HMAC",
             "CurlEngine.perform(", "fdatasync", "swift_task_switch", "__schedule", "__x64_sys_futex")


def perf_report(data, extra):
    text = subprocess.run(["perf", "report", "-i", data, "--stdio", "-g", "none", *extra],
                          capture_output=True, text=True).stdout
    if shutil.which("swift-demangle"):
        text = subprocess.run(["swift-demangle", "--simplified"], input=text, capture_output=True, text=True).stdout
    return [line.rstrip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def profile(bench):
    """One email run and one webhook run under `perf record -g`; writes the reports."""
    os.makedirs(b.RESULTS, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    written = []
    for kind in ("email", "webhook"):
        data = os.path.join(b.RESULTS, f"perf-{kind}-{stamp}.data")   # kept for `perf report -i`
        result = bench.herold_run(kind, 1, perf=data)
        report = os.path.join(b.RESULTS, f"perf-{kind}-{stamp}.txt")
        with open(report, "w") as f:
            f.write(f"# herold {kind} run, one event per file, under perf record -g: {result['deliveries']} "
                    f"deliveries, {result['rate']:.0f}/s (perf slows it), herold CPU {result['cpu_s']:.2f} s, "
                    f"load {os.getloadavg()[0]:.1f}\n")
            libraries = []
            for title, extra in PERF_VIEWS:
                lines = perf_report(data, extra)
                libraries = lines if extra[-1] == "dso" else libraries
                f.write(f"\n## {title}\n" + "\n".join(lines) + "\n")
            spots, seen = [], set()
            for line in perf_report(data, ["--children", "--sort", "sym", "--percent-limit", "0.2"]):
                name = line.split("] ", 1)[-1]
                if any(s in line for s in HOT_SPOTS) and not name.startswith(("partial apply", "closure")) \
                        and name not in seen:
                    seen.add(name)
                    spots.append(line)
            f.write("\n## hot spots (inclusive %, self %)\n" + "\n".join(spots) + "\n")
            sqlite = next((l.split()[-1] for l in libraries if "libsqlite3" in l), "libsqlite3.so")
            inside = perf_report(data, ["--no-children", "--sort", "sym", "--dsos", sqlite, "--percent-limit", "0.05"])
            f.write(f"\n## self time inside SQLite (% of all samples)\n" + "\n".join(inside[:40]) + "\n")
        written.append(report)
        b.log(f"perf {kind}: {report}")
    return written


def main():
    args = parse()
    b.need("smtp-source", "smtp-sink", "nginx", "curl", *(["perf"] if args.perf or args.perf_only else []))
    b.unblock_signals()
    if args.alertmanager and not os.access(args.alertmanager, os.X_OK):
        raise SystemExit(f"no Alertmanager at {args.alertmanager} (Debian: apt-get install prometheus-alertmanager)")
    chosen = [m for m in measures(args.postgres, bool(args.alertmanager)) if not args.only or m in args.only.split(",")]
    bench = Bench(args)
    runs = {name: [] for name in chosen}
    info = {"args": {**vars(args), "postgres": pgwire.without_password(args.postgres)}, "machine": b.machine(), "email_bytes": bench.message_bytes,
            "webhook_body_bytes": os.path.getsize(bench.body_file)}
    if bench.pg:
        info["postgres"] = {"url": pgwire.without_password(args.postgres), "version": bench.pg.version}
    try:
        if not args.perf_only:
            for rep in range(args.reps):
                for name in chosen:
                    result = measure(bench, name)
                    runs[name].append(result)
                    b.log(f"rep {rep + 1}/{args.reps} {name}: {result['rate']:.0f}/s in {result['seconds']:.2f} s")
        profiles = profile(bench) if args.perf or args.perf_only else []
    finally:
        bench.close()
    info["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    text, medians = summarise(runs, args) if not args.perf_only else ("", {})
    print(f"herold bench: {args.deliveries} deliveries per measurement, {args.reps} runs each, "
          f"{args.recipients} emails per email event, {args.batch} events per file in batch runs, "
          f"smtp max_connections {args.smtp_connections}, webhook max_connections {args.webhook_connections}; email {bench.message_bytes} bytes; "
          + (f"relay replies to DATA after {args.relay_delay} s; " if args.relay_delay else "") +
          f"load {info['machine']['loadavg_1m_at_start']} -> {info['machine']['loadavg_1m_at_end']} "
          f"on {info['machine']['cpus']} CPUs" + (f"; PostgreSQL {bench.pg.version}" if bench.pg else ""))
    print(text)
    if bench.pg and medians:
        print("\n" + "\n".join(postgres_lines(medians)))
    path = b.save("run", {**info, "medians": medians, "runs": runs, "profiles": profiles})
    print(f"\nraw figures: {path}")
    for p in profiles:
        print(f"profile: {p}")


if __name__ == "__main__":
    main()
