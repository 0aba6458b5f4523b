#!/usr/bin/env python3
"""Crash test: kill `herold serve` with SIGKILL at random moments while events pour into the
spool and deliveries go out; restart it each time; then check that nothing was lost.

    scripts/crash-test.py --herold .build/debug/herold [--events 5000] [--kills 200] [--seed N]

Builds nothing: give it the binary. Runs the test SMTP and HTTP sinks from Tests/Support on
127.0.0.1. Each event causes three deliveries (two emails and one webhook). At the end it
checks that every delivery arrived at least once, that repeats carry the same Message-ID /
webhook-id, and that repeats are no more than the kills. Prints one JSON line of figures and
exits 0 when every check holds, 1 otherwise.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crashlib import (DELIVERIES_PER_EVENT, NotifySocket, start_sink, status, verdict,  # noqa: E402
                      write_events, write_site)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--herold", required=True, help="the built herold binary")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--batch", type=int, default=10, help="event files per `herold enqueue` call")
    parser.add_argument("--min-gap", type=float, default=0.05, help="shortest run between kills, seconds")
    parser.add_argument("--max-gap", type=float, default=0.6, help="longest run between kills, seconds")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for quiescence at the end")
    parser.add_argument("--max-repeats-per-kill", type=float, default=1.0,
                        help="fail when repeats exceed kills times this (a kill can repeat every transfer then in flight)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    herold = os.path.abspath(args.herold)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGCHLD])

    work = tempfile.mkdtemp(prefix="herold-crash-")
    mail_dir, http_dir, events_dir = (os.path.join(work, d) for d in ("mail", "http", "events"))
    os.makedirs(events_dir)
    smtp, smtp_port = start_sink("smtp_sink.py", mail_dir)
    http, http_port = start_sink("http_sink.py", http_dir)
    site = os.path.join(work, "site")
    config = write_site(site, smtp_port, http_port)
    log = open(os.path.join(work, "herold.log"), "a")
    started = time.monotonic()

    notify = NotifySocket(os.path.join(work, "notify.sock"))

    def serve():
        return subprocess.Popen([herold, "serve", "--config", config], stdout=log, stderr=log, env=notify.environment())

    problems = []

    def pour():
        for first in range(0, args.events, args.batch):
            files = write_events(events_dir, range(first, min(first + args.batch, args.events)))
            result = subprocess.run([herold, "enqueue", "--config", config, *files], capture_output=True, text=True)
            if result.returncode != 0:
                problems.append(f"enqueue failed: {result.stderr.strip()}")
                return

    producer = threading.Thread(target=pour)
    daemon = serve()
    producer.start()
    for _ in range(args.kills):
        time.sleep(rng.uniform(args.min_gap, args.max_gap))
        daemon.kill()
        daemon.wait()
        notify.drain()
        daemon = serve()
    producer.join()
    poured = time.monotonic() - started

    expected = args.events * DELIVERIES_PER_EVENT
    deadline = time.monotonic() + args.timeout
    counts = {}
    while time.monotonic() < deadline:
        report = status(herold, config)
        counts = (report or {}).get("counts", {})
        spool_new = os.listdir(os.path.join(site, "spool", "new"))
        if counts.get("sent") == expected and not spool_new:
            break
        time.sleep(0.5)
    if not notify.wait_ready(60):
        problems.append("the last herold started did not report READY=1 within 60 s")
    daemon.send_signal(signal.SIGTERM)
    exit_code = daemon.wait(timeout=60)
    elapsed = time.monotonic() - started
    if exit_code != 0:
        problems.append(f"herold exited {exit_code} on SIGTERM")
    if counts.get("sent") != expected or sum(counts.values()) != expected:
        problems.append(f"journal counts {counts}, expected {expected} sent")

    found, figures = verdict(mail_dir, http_dir, args.events, args.kills, args.max_repeats_per_kill)
    problems += found

    summary = {
        "ok": not problems, "seed": seed, "events": args.events, "kills": args.kills,
        **figures, "seconds": round(elapsed, 1),
        "pour_seconds": round(poured, 1), "problems": problems, "work": work,
    }
    print(json.dumps(summary), flush=True)
    for process in (smtp, http):
        process.terminate()
        process.wait()
    log.close()
    notify.close()
    if not problems and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
