#!/usr/bin/env python3
"""herold with a backlog: 100,000 queued deliveries for a relay that is down.

    bench/backlog.sh [--herold PATH] [--deliveries 100000] [--reps 3] [--window 20] [--relay down|paused]

1. Builds the backlog once, the honest way: `herold serve` ingests events (--recipients emails
   each, --per-file events per spool file) while its relay, Postfix's smtp-sink, is paused
   with SIGSTOP (connections are accepted by the kernel, no greeting ever comes), so nothing
   is sent and every delivery stays queued. When the journal holds them all, herold gets
   SIGTERM (its transfer in flight is left in the journal, as after any shutdown) and the
   state folder is kept as the backlog. This also gives the ingest rate (deliveries/s and
   events/s into the journal) with no sending beside it.
2. Each repetition starts `herold serve` on a fresh copy of that state with the relay down:
   `--relay down` (default) is a server that answers every connection with 421 and closes it
   (and counts the connections: what the relay's admin or fail2ban sees); `--relay paused` is
   the paused smtp-sink again (nothing moves). Measured: time from exec to READY=1 (a
   NOTIFY_SOCKET made here), VmHWM (peak RSS) over --window seconds, CPU seconds in that
   window, deliveries deferred and relay connections in it, `herold status` wall time and
   peak RSS while the daemon runs, and `herold status` again after it has stopped.
   For comparison the same start on an empty journal.
"""
import argparse
import json
import os
import shutil
import tempfile
import threading
import time

import benchlib as b

RULES = """  - name: greeting
    match: { type: bench.email }
    send:
      - email: { to: [bench], template: greeting }"""
SLOW = """  connect_timeout: 600
  timeout: 3600
"""
TOP = """retry: { first: 1h, max: 1h, lifetime: 5d }
shutdown_timeout: 1s
"""


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--herold", help="the built binary (default .build/release/herold)")
    p.add_argument("--deliveries", type=int, default=100_000)
    p.add_argument("--recipients", type=int, default=10, help="emails per event")
    p.add_argument("--per-file", type=int, default=100, help="events per spool file when building the backlog")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--window", type=float, default=20, help="seconds each start is watched")
    p.add_argument("--status-after", type=float, default=3, help="seconds after READY=1 to run `herold status`")
    p.add_argument("--relay", choices=["down", "paused"], default="down")
    p.add_argument("--reuse", help="a folder holding a backlog built before (with --keep); skips step 1")
    p.add_argument("--keep", action="store_true", help="keep the work folder (prints where)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed to build the backlog")
    return p.parse_args()


def build(args, herold_bin, work):
    """Step 1: the backlog, ingested while the relay is paused. Returns ingest figures."""
    sink = b.SmtpSink()
    sink.pause()
    site = os.path.join(work, "site")
    config = b.write_site(site, sink.url, {}, RULES, recipient_count=args.recipients, smtp_extra=SLOW,
                          top_extra=TOP)
    herold = b.Herold(herold_bin, config)
    try:
        events_n = args.deliveries // args.recipients
        expected = events_n * args.recipients
        stamp = b.now_rfc3339()
        events = [b.event(i, "bench.email", "backlog", stamp) for i in range(events_n)]
        drop = b.Drop(os.path.join(site, "spool"), events, args.per_file)
        journal = b.Journal(herold.journal_path)
        cpu0 = herold.cpu_seconds()
        started = drop.go()
        b.wait_in_journal(journal, expected, os.path.join(site, "spool", "new"), args.timeout)
        seconds = time.monotonic() - started
        counts = journal.counts()
        journal.close()
        figures = {"deliveries": expected, "events": events_n, "files": drop.files, "ingest_s": seconds,
                   "deliveries_per_s": expected / seconds, "events_per_s": events_n / seconds,
                   "cpu_s": herold.cpu_seconds() - cpu0, "peak_rss_mib": herold.peak_rss_mib(),
                   "counts_before_stop": counts}
    finally:
        code = herold.close()
        sink.close()
    if code != 0:
        raise SystemExit(f"herold exited {code} on SIGTERM while building the backlog")
    figures["journal_mib"] = sum(os.path.getsize(os.path.join(site, "state", f))
                                 for f in os.listdir(os.path.join(site, "state"))) / 2**20
    shutil.copytree(os.path.join(site, "state"), os.path.join(work, "backlog-state"))
    with open(os.path.join(work, "backlog.json"), "w") as f:
        json.dump(figures, f, indent=2)
    return figures


def rss_parts_mib(pid):
    """VmRSS with its anonymous and file-backed parts (shared memory left out), in MiB."""
    return {"rss": b.proc_status_kib(pid, "VmRSS") / 1024, "anon": b.proc_status_kib(pid, "RssAnon") / 1024,
            "file": b.proc_status_kib(pid, "RssFile") / 1024}


def start_once(args, herold_bin, work, relay, with_backlog):
    """Step 2: one start of `herold serve` on a copy of the backlog (or an empty state)."""
    site = os.path.join(work, "site")
    state = os.path.join(site, "state")
    shutil.rmtree(state, ignore_errors=True)
    if with_backlog:
        shutil.copytree(os.path.join(work, "backlog-state"), state)
    b.set_smtp_url(os.path.join(site, "herold.yaml"), relay.url)
    before = relay.connections if hasattr(relay, "connections") else 0
    herold = b.Herold(herold_bin, os.path.join(site, "herold.yaml"))
    ready = time.monotonic()
    try:
        cpu0 = herold.cpu_seconds()
        rss = []
        # `herold status` runs beside the window (it may take longer than the window does).
        status = {}
        asker = threading.Timer(args.status_after, lambda: status.update(running=herold.command("status", "--json")))
        asker.start()
        while time.monotonic() < ready + args.window:
            rss.append(rss_parts_mib(herold.pid))
            time.sleep(0.25)
        cpu = herold.cpu_seconds() - cpu0
        peak = herold.peak_rss_mib()
        # What the largest RSS seen was made of: anonymous (heap, stacks, SQLite's page
        # cache, relocated data) and file-backed (the binary's and libraries' pages).
        largest = max(rss, default={"rss": 0, "anon": 0, "file": 0}, key=lambda parts: parts["rss"])
        connections = relay.connections - before if hasattr(relay, "connections") else None
        journal = b.Journal(herold.journal_path)
        counts = journal.counts()
        journal.close()
        asker.join()
        status_running = status.get("running")
    finally:
        stopping = time.monotonic()
        code = herold.close()
        stop_s = time.monotonic() - stopping
    status_stopped = b.run_rusage([herold_bin, "status", "--json", "--config", os.path.join(site, "herold.yaml")],
                                  capture=True)
    for name, result in (("running", status_running), ("stopped", status_stopped)):
        if result is None or result[3] != 0:
            raise SystemExit(f"herold status ({name}) failed: {result and result[3]}")
    return {"ready_s": herold.ready_seconds, "peak_rss_mib": peak, "rss_end_mib": rss[-1]["rss"] if rss else None,
            "rss_anon_mib": largest["anon"], "rss_file_mib": largest["file"],
            "window_s": args.window, "cpu_s_in_window": cpu, "counts_at_end": counts,
            "deferred_in_window": counts.get("deferred", 0),
            "relay_connections_in_window": connections,
            "status_running_s": status_running[0], "status_running_rss_mib": status_running[2],
            "status_stopped_s": status_stopped[0], "status_stopped_rss_mib": status_stopped[2],
            "stop_s": stop_s, "exit_code": code}


def main():
    args = parse()
    b.need("smtp-sink")
    b.unblock_signals()
    herold_bin = b.herold_binary(args.herold)
    info = {"args": vars(args), "machine": b.machine()}
    work = os.path.abspath(args.reuse) if args.reuse else tempfile.mkdtemp(prefix="herold-bench-backlog-")
    try:
        if args.reuse:
            with open(os.path.join(work, "backlog.json")) as f:
                built = json.load(f)
        else:
            b.log(f"building a backlog of {args.deliveries} deliveries in {work}")
            built = build(args, herold_bin, work)
        b.log(f"backlog: {built['deliveries']} deliveries ingested in {built['ingest_s']:.1f} s "
              f"({built['deliveries_per_s']:.0f} deliveries/s, {built['events_per_s']:.0f} events/s), "
              f"journal {built['journal_mib']:.0f} MiB")
        relay = b.DownRelay()
        sink = None
        if args.relay == "paused":
            relay.close()
            relay = sink = b.SmtpSink()
            sink.pause()
        runs, empty = [], []
        try:
            for rep in range(args.reps):
                empty.append(start_once(args, herold_bin, work, relay, with_backlog=False))
                runs.append(start_once(args, herold_bin, work, relay, with_backlog=True))
                r = runs[-1]
                b.log(f"rep {rep + 1}/{args.reps}: READY after {r['ready_s']:.2f} s, peak RSS "
                      f"{r['peak_rss_mib']:.0f} MiB, status {r['status_running_s']:.2f} s, "
                      f"{r['relay_connections_in_window']} relay connections in {args.window:g} s")
        finally:
            (sink or relay).close()
    finally:
        if not args.keep and not args.reuse:
            shutil.rmtree(work, ignore_errors=True)
    info["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)

    def row(name, results, key, unit):
        values = [r[key] for r in results]
        return [name, unit, b.median(values), min(values), max(values)]

    rows = [row("READY=1 after exec, backlog", runs, "ready_s", "s"),
            row("READY=1 after exec, empty journal", empty, "ready_s", "s"),
            row(f"peak RSS (VmHWM) in {args.window:g} s, backlog", runs, "peak_rss_mib", "MiB"),
            row(f"peak RSS (VmHWM) in {args.window:g} s, empty journal", empty, "peak_rss_mib", "MiB"),
            row("  of the largest RSS seen: anonymous, backlog", runs, "rss_anon_mib", "MiB"),
            row("  of the largest RSS seen: file-backed, backlog", runs, "rss_file_mib", "MiB"),
            row("  of the largest RSS seen: anonymous, empty journal", empty, "rss_anon_mib", "MiB"),
            row("  of the largest RSS seen: file-backed, empty journal", empty, "rss_file_mib", "MiB"),
            row("herold status while serving, wall", runs, "status_running_s", "s"),
            row("herold status while serving, peak RSS", runs, "status_running_rss_mib", "MiB"),
            row("herold status after stop, wall", runs, "status_stopped_s", "s"),
            row("herold status after stop, peak RSS", runs, "status_stopped_rss_mib", "MiB"),
            row(f"herold CPU in {args.window:g} s, backlog", runs, "cpu_s_in_window", "s"),
            row(f"deliveries deferred in {args.window:g} s", runs, "deferred_in_window", "")]
    if args.relay == "down":
        rows.append(row(f"relay connections in {args.window:g} s", runs, "relay_connections_in_window", ""))
    rows.append(row("SIGTERM to exit, backlog", runs, "stop_s", "s"))
    print(f"backlog: {built['deliveries']:,} queued emails ({built['events']:,} events, {built['files']} files), "
          f"journal {built['journal_mib']:.0f} MiB; ingested at {built['deliveries_per_s']:.0f} deliveries/s = "
          f"{built['events_per_s']:.0f} events/s (relay paused, nothing sent); relay {args.relay}; "
          f"{args.reps} starts; load {info['machine']['loadavg_1m_at_start']} -> "
          f"{info['machine']['loadavg_1m_at_end']}")
    print(b.table(["measurement", "unit", "median", "min", "max"], rows))
    path = b.save("backlog", {**info, "built": built, "runs": runs, "empty_journal": empty})
    print(f"\nraw figures: {path}")


if __name__ == "__main__":
    main()
