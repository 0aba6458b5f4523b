#!/usr/bin/env python3
"""Latency from the rename into spool/new to the receiver, at a steady rate of events.

    bench/latency.sh [--herold PATH] [--rate 100] [--duration 30] [--reps 3] [--warmup 10] ...

Receivers on 127.0.0.1, in a child process of their own (one asyncio loop, Python standard
library): an HTTP endpoint answering 204 that notes when each POST's body has arrived and
reads the event id from it (herold's webhook body is the event), and an SMTP sink that notes
the end of each DATA (the final dot) and reads the event id from the message's text
("Zdarzenie ID", in the greeting template). In every repetition, against one fresh
`herold serve` (one rule per event type: `bench.webhook` -> one webhook, `bench.email` -> one
email to one recipient), in this order:

  direct-webhook   this script POSTs the same event bodies straight to the receiver
                   (one kept-alive connection), --rate a second for --duration s: the
                   receiver's and the machine's own latency, the baseline
  herold-webhook   event files, one per event, written to spool/tmp beforehand and renamed
                   into spool/new on the same schedule; time.time() just before rename(2)
  direct-email     smtplib sends the same kind of message straight to the SMTP sink (one
                   kept session), same schedule
  herold-email     as herold-webhook, events that cause one email each

Latency = the receiver's arrival time - the send (or rename) time, matched by event id. The
first --warmup events of each row are sent but not counted (connection set-up). Prints
p50/p90/p99/max in ms (medians over the repetitions), events missing (never arrived within
--settle s of the last drop), the 1-minute load average at start and end, and writes
everything to bench/results/latency-*.json.
"""
import argparse
import asyncio
import email.message
import email.policy
import email.utils
import http.client
import json
import os
import re
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time

import benchlib as b

RULES = """  - name: latency-email
    match: { type: bench.email }
    send:
      - email: { to: [bench], template: greeting }
  - name: latency-webhook
    match: { type: bench.webhook }
    send:
      - webhook: { endpoint: hub }"""

ROWS = ("direct-webhook", "herold-webhook", "direct-email", "herold-email")
EVENT_ID_IN_TEXT = re.compile(r"Zdarzenie (\S+)")
TO = "odbiorca0@gops0.example.org"


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--herold", help="the built binary (default .build/release/herold)")
    p.add_argument("--rate", type=float, default=100, help="events (or direct sends) a second")
    p.add_argument("--duration", type=float, default=30, help="seconds each row runs")
    p.add_argument("--reps", type=int, default=3, help="repetitions of every row (medians reported)")
    p.add_argument("--warmup", type=int, default=10, help="first events of each row not counted")
    p.add_argument("--settle", type=float, default=30, help="seconds to wait for stragglers after the last drop")
    p.add_argument("--only", default="", help="comma-separated subset of: " + ",".join(ROWS))
    p.add_argument("--keep", action="store_true", help="keep the temporary sites (for their herold.log)")
    p.add_argument("--receivers", metavar="FILE", help=argparse.SUPPRESS)   # the child process
    return p.parse_args()


# ------------------------------------------------------------------ receivers (child process)

class Arrivals:
    """First arrival time of each event id, per channel; duplicates counted."""

    def __init__(self):
        self.first = {"webhook": {}, "email": {}}
        self.duplicates = {"webhook": 0, "email": 0}
        self.unreadable = {"webhook": 0, "email": 0}

    def note(self, channel, event_id, at):
        if event_id is None:
            self.unreadable[channel] += 1
        elif event_id in self.first[channel]:
            self.duplicates[channel] += 1
        else:
            self.first[channel][event_id] = at


async def read_chunked(reader):
    body = b""
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")   # no trailers are sent to us
            return body
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def http_session(reader, writer, arrivals):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip()
                       for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            if headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            if "chunked" in headers.get("transfer-encoding", "").lower():
                body = await read_chunked(reader)
            else:
                body = await reader.readexactly(int(headers.get("content-length", "0")))
            at = time.time()
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
            try:
                event_id = json.loads(body).get("id")
            except (ValueError, AttributeError):
                event_id = None
            arrivals.note("webhook", event_id, at)
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    writer.close()


def email_event_id(raw):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    part = message.get_body(("plain",))
    found = EVENT_ID_IN_TEXT.search(part.get_content() if part else "")
    return found.group(1) if found else None


async def smtp_data(reader):
    lines = []
    while (line := await reader.readline()) != b".\r\n":
        if not line:
            raise ConnectionError("closed in DATA")
        lines.append(line[1:] if line.startswith(b".") else line)
    return b"".join(lines)


async def smtp_session(reader, writer, arrivals):
    """The least an SMTP server says: no PIPELINING, no AUTH, no TLS; every command is 250."""
    writer.write(b"220 latency-sink ESMTP\r\n")
    try:
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-latency-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n")
            elif verb == b"DATA":
                writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                await writer.drain()
                raw = await smtp_data(reader)
                at = time.time()
                writer.write(b"250 2.0.0 Ok: queued\r\n")
                await writer.drain()
                arrivals.note("email", email_event_id(raw), at)
                continue
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 Bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 2.0.0 Ok\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    writer.close()


async def serve_receivers(out_path):
    arrivals = Arrivals()
    http = await asyncio.start_server(lambda r, w: http_session(r, w, arrivals), "127.0.0.1", 0)
    smtp = await asyncio.start_server(lambda r, w: smtp_session(r, w, arrivals), "127.0.0.1", 0)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    print(f"READY {http.sockets[0].getsockname()[1]} {smtp.sockets[0].getsockname()[1]}", flush=True)
    await done.wait()
    with open(out_path, "w") as f:
        json.dump(vars(arrivals), f)


class Receivers:
    """The receivers' child process; `arrivals()` stops it and returns what it saw."""

    def __init__(self, work):
        self.out = os.path.join(work, "arrivals.json")
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--receivers", self.out],
                                        stdout=subprocess.PIPE, text=True)
        words = self.process.stdout.readline().split()
        if len(words) != 3 or words[0] != "READY":
            b.stop(self.process)
            raise SystemExit(f"the receivers did not start: {words}")
        self.http_port, self.smtp_port = int(words[1]), int(words[2])
        self.webhook_url = f"http://127.0.0.1:{self.http_port}/hook"
        self.smtp_url = f"smtp://127.0.0.1:{self.smtp_port}"

    def arrivals(self):
        code = b.stop(self.process)
        if code != 0 or not os.path.exists(self.out):
            raise SystemExit(f"the receivers exited {code} without their arrivals")
        with open(self.out) as f:
            return json.load(f)


# ---------------------------------------------------------------------------- the senders

def on_schedule(count, rate, action):
    """Calls action(n) for n in 0..count-1 at start + n/rate (monotonic); returns the wall
    time (time.time()) taken just before each call, and the worst lateness in ms."""
    sent, late = [], 0.0
    start = time.monotonic() + 0.05
    for n in range(count):
        due = start + n / rate
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        late = max(late, time.monotonic() - due)
        sent.append(time.time())
        action(n)
    return sent, late * 1000


def direct_webhook(url_port, events, rate):
    connection = http.client.HTTPConnection("127.0.0.1", url_port, timeout=10)
    bodies = [json.dumps(e, ensure_ascii=False).encode() for e in events]

    def post(n):
        connection.request("POST", "/hook", bodies[n], {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 204:
            raise SystemExit(f"the webhook receiver answered {response.status}")

    try:
        return on_schedule(len(events), rate, post)
    finally:
        connection.close()


def greeting_text(event_id):
    """The greeting template rendered by hand for recipient 0 (who has a salutation)."""
    text = re.sub(r"\{\{\^recipient.salutation\}\}.*?\{\{/recipient.salutation\}\}", "", b.EMAIL_TEXT,
                  flags=re.S)
    text = text.replace("{{#recipient.salutation}}{{recipient.salutation}}!{{/recipient.salutation}}",
                        "Szanowna Pani Dyrektor!")
    return text.replace("{{pl_data(event.time)}}", "21 listopada 2026").replace("{{event.id}}", event_id)


def greeting_message(event):
    """About the message herold composes from the same event: the same headers and text."""
    message = email.message.EmailMessage()
    message["From"] = b.FROM
    message["To"] = f"GOPS nr 0 <{TO}>"
    message["Subject"] = b.EMAIL_SUBJECT.replace("{{data.year}}", "2026")
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(event["id"], "rops.example.org")
    message.set_content(greeting_text(event["id"]))
    return message.as_bytes(policy=email.policy.SMTP)


def direct_email(smtp_port, events, rate):
    messages = [greeting_message(e) for e in events]
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.ehlo("latency-bench")
        return on_schedule(len(events), rate, lambda n: smtp.sendmail(
            "powiadomienia@rops.example.org", [TO], messages[n]))


def herold_drop(spool, events, rate):
    """One file per event in spool/tmp beforehand, renamed into spool/new on the schedule."""
    drop = b.Drop(spool, events, 1, tag=events[0]["id"].rsplit("-", 1)[0])
    return on_schedule(len(drop.names), rate, lambda n: os.rename(
        os.path.join(drop.tmp, drop.names[n]), os.path.join(drop.new, drop.names[n])))


def wait_sent(journal, channel, expected, timeout):
    """Until the journal has `expected` deliveries of the channel in a final state (or timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = journal.counts(channel)
        if counts.get("sent", 0) + counts.get("failed", 0) + counts.get("held", 0) >= expected:
            break
        time.sleep(0.05)
    return journal.counts(channel)


# --------------------------------------------------------------------------------- a run

def percentiles(latencies):
    if len(latencies) < 2:
        return {"p50": None, "p90": None, "p99": None, "max": max(latencies, default=None)}
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50": q[49], "p90": q[89], "p99": q[98], "max": max(latencies)}


def measure(row, sent, arrivals, warmup):
    """Latencies in ms of the counted events (after the warm-up), matched by event id."""
    channel = row.split("-", 1)[1]
    first = arrivals["first"][channel]
    counted = list(sent.items())[warmup:]
    latencies = [(first[i] - t) * 1000 for i, t in counted if i in first]
    figures = {k: v if v is None else round(v, 3) for k, v in percentiles(latencies).items()}
    return {**figures, "events": len(counted), "arrived": len(latencies),
            "missing": len(counted) - len(latencies), "latencies_ms": sorted(round(v, 3) for v in latencies)}


def once(args, herold_bin, rep, rows):
    work = tempfile.mkdtemp(prefix="herold-bench-latency-")
    receivers = Receivers(work)
    config = b.write_site(os.path.join(work, "site"), receivers.smtp_url, {"hub": receivers.webhook_url},
                          RULES, recipient_count=1, top_extra="shutdown_timeout: 1s\n")
    herold = b.Herold(herold_bin, config)
    journal = b.Journal(herold.journal_path)
    spool = os.path.join(work, "site", "spool")
    count = args.warmup + int(args.rate * args.duration)
    results, sent = {}, {}
    try:
        for row in rows:
            kind, channel = row.split("-", 1)
            events = [b.event(n, f"bench.{channel}", f"{row}-r{rep}", b.now_rfc3339()) for n in range(count)]
            cpu = herold.cpu_seconds()
            load = os.getloadavg()[0]
            if row == "direct-webhook":
                times, late = direct_webhook(receivers.http_port, events, args.rate)
            elif row == "direct-email":
                times, late = direct_email(receivers.smtp_port, events, args.rate)
            else:
                times, late = herold_drop(spool, events, args.rate)
                states = wait_sent(journal, channel, count, args.settle)
            sent[row] = dict(zip((e["id"] for e in events), times))
            results[row] = {"schedule_late_max_ms": round(late, 2), "loadavg_1m_at_start": round(load, 2)}
            if kind == "herold":
                results[row].update(journal=states, herold_cpu_s=round(herold.cpu_seconds() - cpu, 3))
            b.log(f"rep {rep} {row}: {count} sent, worst lateness of the schedule {late:.1f} ms")
    finally:
        journal.close()
        herold.close()
        arrivals = receivers.arrivals()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for row in results:
        results[row].update(measure(row, sent[row], arrivals, args.warmup))
        channel = row.split("-", 1)[1]
        b.log(f"rep {rep} {row}: p50 {b.fmt(results[row]['p50'])} p99 {b.fmt(results[row]['p99'])} "
              f"max {b.fmt(results[row]['max'])} ms, {results[row]['missing']} missing")
    results["duplicates"], results["unreadable"] = arrivals["duplicates"], arrivals["unreadable"]
    return results


def report(args, runs, rows, info):
    lines = []
    for row in rows:
        values = {k: b.median([r[row][k] for r in runs if r[row][k] is not None])
                  for k in ("p50", "p90", "p99", "max")}
        cpu = b.median([r[row]["herold_cpu_s"] * 1000 / (r[row]["events"] + args.warmup)
                        for r in runs if "herold_cpu_s" in r[row]])
        lines.append([row, values["p50"], values["p90"], values["p99"], values["max"],
                      sum(r[row]["missing"] for r in runs), sum(r[row]["events"] for r in runs), cpu,
                      ", ".join(b.fmt(r[row]["p99"]) for r in runs)])
    print(f"latency: {args.rate:g} events/s for {args.duration:g} s per row ({args.warmup} warm-up events not "
          f"counted), {args.reps} run(s); load {info['machine']['loadavg_1m_at_start']} -> "
          f"{info['machine']['loadavg_1m_at_end']}")
    print(b.table(["row", "p50 ms", "p90 ms", "p99 ms", "max ms", "missing", "of", "herold CPU ms/event",
                   "p99 ms, each run"], lines))
    for channel in ("webhook", "email"):
        herold, direct = f"herold-{channel}", f"direct-{channel}"
        if herold in rows:
            p99 = b.median([r[herold]["p99"] for r in runs if r[herold]["p99"] is not None])
            extra = ""
            if direct in rows:
                base = b.median([r[direct]["p99"] for r in runs if r[direct]["p99"] is not None])
                extra = f" (direct send p99 {b.fmt(base)} ms)"
            verdict = "under" if p99 is not None and p99 < 10 else "NOT under"
            print(f"{herold}: p99 {b.fmt(p99)} ms, {verdict} 10 ms{extra}")
    duplicates = {ch: sum(r["duplicates"][ch] for r in runs) for ch in ("webhook", "email")}
    unreadable = {ch: sum(r["unreadable"][ch] for r in runs) for ch in ("webhook", "email")}
    if any(duplicates.values()) or any(unreadable.values()):
        print(f"arrived twice: {duplicates}; no event id found: {unreadable}")


def main():
    args = parse()
    if args.receivers:
        asyncio.run(serve_receivers(args.receivers))
        return
    b.unblock_signals()
    herold_bin = b.herold_binary(args.herold)
    rows = [r for r in ROWS if not args.only or r in args.only.split(",")]
    info = {"args": vars(args), "machine": b.machine()}
    runs = [once(args, herold_bin, rep, rows) for rep in range(1, args.reps + 1)]
    info["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    report(args, runs, rows, info)
    path = b.save("latency", {**info, "runs": runs})
    print(f"\nraw figures: {path}")


if __name__ == "__main__":
    main()
