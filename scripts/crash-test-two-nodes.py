#!/usr/bin/env python3
"""Two-node crash test: two `herold serve` nodes share one PostgreSQL journal, each watching
its own spool; events pour in, about half on each node and some on both; node A is killed
with SIGKILL at random moments and restarted, again and again, while B goes on. Then A is
killed once more holding work and left down: B must take that work up when A's leases run
out (the failover figure). At the end it checks that every delivery arrived at least once,
that repeats carry the same Message-ID / webhook-id, and that repeats are no more than the
kills.

    scripts/crash-test-two-nodes.py --herold .build/debug/herold --postgres postgresql://postgres@127.0.0.1:PORT/postgres

--postgres names a server where the script may create a database (one per run, dropped
after a passing run); `scripts/pg-test-cluster.sh start DIR` starts a throwaway one. Builds
nothing. Prints one JSON line of figures and exits 0 when every check holds, 1 otherwise.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crashlib import (DELIVERIES_PER_EVENT, NotifySocket, start_sink, status, verdict,  # noqa: E402
                      write_events, write_site)


def psql(url, sql):
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], check=True, capture_output=True, text=True)


def database_url(server, name):
    parts = urllib.parse.urlsplit(server)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


class Node:
    def __init__(self, name, herold, config, work, log):
        self.name, self.herold, self.config, self.log = name, herold, config, log
        self.notify = NotifySocket(os.path.join(work, f"notify-{name}.sock"))
        self.process = None

    def start(self):
        self.notify.drain()
        self.process = subprocess.Popen([self.herold, "serve", "--config", self.config], stdout=self.log,
                                        stderr=self.log, env=self.notify.environment())

    def kill(self):
        self.process.kill()
        self.process.wait()

    def stop(self, problems):
        if not self.notify.wait_ready(60):
            problems.append(f"node {self.name}: the last herold started did not report READY=1 within 60 s")
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        if code != 0:
            problems.append(f"node {self.name}: herold exited {code} on SIGTERM")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--herold", required=True, help="the built herold binary")
    parser.add_argument("--postgres", default=os.environ.get("HEROLD_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (default: $HEROLD_TEST_POSTGRES_URL)")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--both", type=float, default=0.1, help="share of event files dropped on both nodes")
    parser.add_argument("--batch", type=int, default=10, help="event files per `herold enqueue` call")
    parser.add_argument("--min-gap", type=float, default=0.1, help="shortest run between kills, seconds")
    parser.add_argument("--max-gap", type=float, default=0.8, help="longest run between kills, seconds")
    parser.add_argument("--lease", type=int, default=10, help="journal.lease of both nodes, seconds")
    parser.add_argument("--failover-events", type=int, default=200,
                        help="events dropped on A alone before it is killed and left down")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for quiescence")
    parser.add_argument("--max-repeats-per-kill", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work folder and the database")
    args = parser.parse_args()
    if not args.postgres:
        raise SystemExit("no PostgreSQL server: give --postgres URL or set HEROLD_TEST_POSTGRES_URL "
                         "(scripts/pg-test-cluster.sh start DIR starts a throwaway one)")
    herold = os.path.abspath(args.herold)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGCHLD])

    database = f"herold_crash_{seed}_{os.getpid()}"
    psql(args.postgres, f"CREATE DATABASE {database}")
    journal_url = database_url(args.postgres, database)
    work = tempfile.mkdtemp(prefix="herold-crash2-")
    mail_dir, http_dir, events_dir = (os.path.join(work, d) for d in ("mail", "http", "events"))
    os.makedirs(events_dir)
    smtp, smtp_port = start_sink("smtp_sink.py", mail_dir)
    http, http_port = start_sink("http_sink.py", http_dir)
    log = open(os.path.join(work, "herold.log"), "a")
    nodes = {}
    for name in ("a", "b"):
        extra = f"journal: {{ url: \"{journal_url}\", node: {name}, lease: {args.lease}s }}\n"
        config = write_site(os.path.join(work, f"site-{name}"), smtp_port, http_port, extra)
        nodes[name] = Node(name, herold, config, work, log)
    a, b = nodes["a"], nodes["b"]
    problems = []
    started = time.monotonic()

    def enqueue(node, files):
        result = subprocess.run([herold, "enqueue", "--config", node.config, *files], capture_output=True, text=True)
        if result.returncode != 0:
            problems.append(f"enqueue on {node.name} failed: {result.stderr.strip()}")
        return result.returncode == 0

    total = args.events + args.failover_events
    poured_on = {"a": 0, "b": 0, "both": 0}

    def pour():
        pick = random.Random(seed + 1)
        for first in range(0, args.events, args.batch):
            files = write_events(events_dir, range(first, min(first + args.batch, args.events)))
            roll = pick.random()
            targets = [a, b] if roll < args.both else [a] if roll < (1 + args.both) / 2 else [b]
            poured_on["both" if len(targets) == 2 else targets[0].name] += len(files)
            if not all(enqueue(node, files) for node in targets):
                return

    a.start()
    b.start()
    producer = threading.Thread(target=pour)
    producer.start()
    for _ in range(args.kills):
        time.sleep(rng.uniform(args.min_gap, args.max_gap))
        a.kill()
        a.start()
    producer.join()
    poured = time.monotonic() - started

    def counts():
        report = status(herold, b.config) or {}
        return report.get("counts", {})

    def wait_until(predicate, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.2)
        return False

    def held_by_a():
        result = subprocess.run(["psql", journal_url, "-tAc",
                                 "SELECT count(*) FROM deliveries WHERE state = 'inflight' AND lease_node = 'a'"],
                                capture_output=True, text=True)
        return int(result.stdout.strip() or 0) if result.returncode == 0 else 0

    # Failover: with the servers paused (SIGSTOP: connections wait for a greeting), both nodes
    # claim and hold deliveries; A is killed holding some and left down, the servers go on,
    # and B must deliver A's work once A's leases run out.
    failover = None
    held_at_kill = 0
    shown = []
    if args.failover_events:
        expected = args.events * DELIVERIES_PER_EVENT
        if not wait_until(lambda: counts().get("sent") == expected, args.timeout):
            problems.append(f"before the failover run: journal counts {counts()}, expected {expected} sent")
        if not a.notify.wait_ready(60):
            problems.append("node a did not report READY=1 before the failover run")
        for sink in (smtp, http):
            sink.send_signal(signal.SIGSTOP)
        enqueue(a, write_events(events_dir, range(args.events, total)))
        expected = total * DELIVERIES_PER_EVENT
        ingested = wait_until(lambda: sum(counts().values()) == expected and held_by_a() > 0, 60)
        held_at_kill = held_by_a()
        shown = (status(herold, b.config) or {}).get("nodes", [])
        killed_at = time.monotonic()
        a.kill()
        for sink in (smtp, http):
            sink.send_signal(signal.SIGCONT)
        if not ingested:
            problems.append(f"node a did not ingest the failover events and hold some in flight: {counts()}")
        if wait_until(lambda: counts().get("sent") == expected, args.lease * 6 + 60):
            failover = round(time.monotonic() - killed_at, 1)
        else:
            problems.append(f"node b did not finish node a's work after the failover kill: {counts()}")
        a.start()

    expected = total * DELIVERIES_PER_EVENT
    spools = [os.path.join(work, f"site-{n}", "spool", "new") for n in nodes]
    wait_until(lambda: counts().get("sent") == expected and not any(os.listdir(s) for s in spools), args.timeout)
    final = counts()
    for node in (a, b):
        node.stop(problems)
    elapsed = time.monotonic() - started
    if final.get("sent") != expected or sum(final.values()) != expected:
        problems.append(f"journal counts {final}, expected {expected} sent")

    kills = args.kills + (1 if args.failover_events else 0)
    found, figures = verdict(mail_dir, http_dir, total, kills, args.max_repeats_per_kill)
    problems += found
    summary = {
        "ok": not problems, "seed": seed, "events": total, "poured_on": poured_on, "kills": kills,
        **figures, "lease_seconds": args.lease, "failover_held_by_a": held_at_kill, "failover_status_nodes": shown, "failover_seconds": failover, "seconds": round(elapsed, 1),
        "pour_seconds": round(poured, 1), "problems": problems, "work": work, "database": database,
    }
    print(json.dumps(summary), flush=True)
    for process in (smtp, http):
        process.terminate()
        process.wait()
    log.close()
    for node in nodes.values():
        node.notify.close()
    if not problems and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
        psql(args.postgres, f"DROP DATABASE {database}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
