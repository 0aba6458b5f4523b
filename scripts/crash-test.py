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
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPPORT = os.path.join(ROOT, "Tests", "Support")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
RECIPIENTS = ["gops@example.org", "pcpr@example.org"]


def start_sink(script, directory):
    process = subprocess.Popen([sys.executable, "-u", os.path.join(SUPPORT, script), "--port", "0", "--dir", directory],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    if not line.startswith("READY "):
        process.kill()
        raise SystemExit(f"{script} did not start: {line!r}")
    return process, int(line.split()[1])


def write_site(root, smtp_port, http_port):
    os.makedirs(os.path.join(root, "templates", "crash"))
    os.makedirs(os.path.join(root, "secrets"))
    with open(os.path.join(root, "secrets", "hub.whsec"), "w") as f:
        f.write(SECRET)
    with open(os.path.join(root, "templates", "crash", "subject.mustache"), "w") as f:
        f.write("Zdarzenie {{event.id}}")
    with open(os.path.join(root, "templates", "crash", "text.mustache"), "w") as f:
        f.write("Treść zdarzenia {{event.id}}.\n")
    config = os.path.join(root, "herold.yaml")
    with open(config, "w") as f:
        f.write(f"""timezone: Europe/Warsaw
spool: ./spool
state: ./state
retry: {{ first: 1s, max: 2s }}
smtp:
  url: smtp://127.0.0.1:{smtp_port}
  tls: none
  from: "Test awarii <awarie@rops.example.org>"
  connect_timeout: 5
  timeout: 20
webhooks:
  hub:
    url: http://127.0.0.1:{http_port}/hook
    secret_file: secrets/hub.whsec
    allow_private: true
    connect_timeout: 5
    timeout: 20
recipients:
  partners: [{", ".join(RECIPIENTS)}]
rules:
  - name: crash
    match: {{ type: crash.test }}
    send:
      - email: {{ to: [partners], template: crash }}
      - webhook: {{ endpoint: hub }}
""")
    return config


def status(herold, config):
    result = subprocess.run([herold, "status", "--config", config, "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)


def read_records(directory):
    records = []
    for name in os.listdir(directory):
        if name.endswith(".json"):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                records.append(json.load(f))
    return records


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

    # Each daemon reports READY=1 to this socket (as to systemd), so the final stop meets a
    # daemon that has started: a SIGTERM while the dynamic loader is still mapping libcurl's
    # libraries, before main() runs, takes the default action whatever herold does.
    notify_path = os.path.join(work, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)

    def serve():
        return subprocess.Popen([herold, "serve", "--config", config], stdout=log, stderr=log,
                                env={**os.environ, "NOTIFY_SOCKET": notify_path})

    def drain_notify():
        notify.setblocking(False)
        try:
            while notify.recv(4096):
                pass
        except BlockingIOError:
            pass

    def wait_ready(seconds):
        notify.settimeout(seconds)
        try:
            while True:
                if b"READY=1" in notify.recv(4096):
                    return True
        except socket.timeout:
            return False

    problems = []

    def pour():
        for first in range(0, args.events, args.batch):
            files = []
            for n in range(first, min(first + args.batch, args.events)):
                path = os.path.join(events_dir, f"e{n}.json")
                with open(path, "w") as f:
                    json.dump({"specversion": "1.0", "id": f"e{n}", "source": "/crash-test", "type": "crash.test",
                               "data": {"n": n}}, f)
                files.append(path)
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
        drain_notify()
        daemon = serve()
    producer.join()
    poured = time.monotonic() - started

    expected = args.events * (len(RECIPIENTS) + 1)
    deadline = time.monotonic() + args.timeout
    counts = {}
    while time.monotonic() < deadline:
        report = status(herold, config)
        counts = (report or {}).get("counts", {})
        spool_new = os.listdir(os.path.join(site, "spool", "new"))
        if counts.get("sent") == expected and not spool_new:
            break
        time.sleep(0.5)
    if not wait_ready(60):
        problems.append("the last herold started did not report READY=1 within 60 s")
    daemon.send_signal(signal.SIGTERM)
    exit_code = daemon.wait(timeout=60)
    elapsed = time.monotonic() - started
    if exit_code != 0:
        problems.append(f"herold exited {exit_code} on SIGTERM")
    if counts.get("sent") != expected or sum(counts.values()) != expected:
        problems.append(f"journal counts {counts}, expected {expected} sent")

    # What the servers received: group by what was meant (recipient + event), not by id.
    mails, hooks = read_records(mail_dir), read_records(http_dir)
    ids_by_delivery = {}
    for mail in mails:
        key = ("email", mail["rcpt_tos"][0], (mail.get("subject") or "").removeprefix("Zdarzenie "))
        ids_by_delivery.setdefault(key, []).append(mail.get("message_id"))
    for hook in hooks:
        event = json.loads(hook["body"]).get("id")
        hook_id = next((v for k, v in hook["headers"] if k.lower() == "webhook-id"), None)
        ids_by_delivery.setdefault(("webhook", "hub", event), []).append(hook_id)
    wanted = {("email", r, f"e{n}") for n in range(args.events) for r in RECIPIENTS}
    wanted |= {("webhook", "hub", f"e{n}") for n in range(args.events)}
    missing = wanted - set(ids_by_delivery)
    unexpected = set(ids_by_delivery) - wanted
    mismatched = [k for k, ids in ids_by_delivery.items() if len(set(ids)) != 1]
    received = len(mails) + len(hooks)
    duplicates = received - len(ids_by_delivery)
    distinct_ids = len({i for ids in ids_by_delivery.values() for i in ids})
    if missing:
        problems.append(f"{len(missing)} deliveries never arrived, e.g. {sorted(missing)[:3]}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected deliveries, e.g. {sorted(unexpected)[:3]}")
    if mismatched:
        problems.append(f"{len(mismatched)} deliveries repeated with another id, e.g. {mismatched[:3]}")
    if distinct_ids != expected:
        problems.append(f"{distinct_ids} distinct ids, expected {expected}")
    if duplicates > args.kills * args.max_repeats_per_kill:
        problems.append(f"{duplicates} repeats for {args.kills} kills (allowed: {args.max_repeats_per_kill} per kill)")

    summary = {
        "ok": not problems, "seed": seed, "events": args.events, "kills": args.kills,
        "expected_deliveries": expected, "received": received, "distinct_ids": distinct_ids,
        "duplicates": duplicates, "missing": len(missing), "seconds": round(elapsed, 1),
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
