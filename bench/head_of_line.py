#!/usr/bin/env python3
"""Head-of-line blocking: does one slow partner delay everyone else's mail?

    bench/head-of-line.sh [--herold PATH] [--events 100] [--delay 20] [--checkpoints 10,30,60,120]

A webhook endpoint that answers 204 only after --delay seconds (a small Python server) and
Postfix's smtp-sink as a fast relay. One rule: each greeting event causes an email to each of
2 recipients and one webhook to the slow endpoint. --events events are dropped into the spool
at once (one file each); the journal is read at each checkpoint (seconds after the drop) for
how many of the emails and webhooks are sent. A herold without head-of-line blocking sends
all emails within a second or two, whatever the webhook endpoint does.
"""
import argparse
import os
import shutil
import tempfile
import time

import benchlib as b


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--herold", help="the built binary (default .build/release/herold)")
    p.add_argument("--events", type=int, default=100)
    p.add_argument("--recipients", type=int, default=2, help="emails per event")
    p.add_argument("--delay", type=float, default=20, help="seconds the webhook endpoint takes to answer")
    p.add_argument("--checkpoints", default="10,30,60,120", help="seconds after the drop to count")
    p.add_argument("--smtp-connections", type=int, help="smtp.max_connections (default: herold's default)")
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the temporary site")
    return p.parse_args()


def once(args, herold_bin, checkpoints):
    sink, slow = b.SmtpSink(), b.SlowWebhook(args.delay)
    work = tempfile.mkdtemp(prefix="herold-bench-hol-")
    extra = f"  max_connections: {args.smtp_connections}\n" if args.smtp_connections else ""
    rules = """  - name: greeting
    match: { type: day.social-worker }
    send:
      - email: { to: [bench], template: greeting }
      - webhook: { endpoint: partner }"""
    config = b.write_site(work, sink.url, {"partner": slow.url}, rules, recipient_count=args.recipients,
                          smtp_extra=extra, top_extra="shutdown_timeout: 1s\n")
    herold = b.Herold(herold_bin, config)
    emails = args.events * args.recipients
    try:
        stamp = b.now_rfc3339()
        events = [b.event(i, "day.social-worker", "greet", stamp) for i in range(args.events)]
        drop = b.Drop(os.path.join(work, "spool"), events, 1)
        journal = b.Journal(herold.journal_path)
        started = drop.go()
        rows, all_emails_at = [], None
        for checkpoint in checkpoints:
            while (now := time.monotonic()) < started + checkpoint:
                if all_emails_at is None and journal.counts("email").get("sent", 0) >= emails:
                    all_emails_at = now - started
                time.sleep(0.1)
            mail, hooks = journal.counts("email"), journal.counts("webhook")
            rows.append({"after_s": checkpoint, "emails_sent": mail.get("sent", 0), "emails": emails,
                         "webhooks_sent": hooks.get("sent", 0), "webhooks": args.events,
                         "endpoint_answered": slow.server.answered})
            b.log(f"after {checkpoint} s: {rows[-1]['emails_sent']} of {emails} emails, "
                  f"{rows[-1]['webhooks_sent']} of {args.events} webhooks sent")
        journal.close()
        return {"checkpoints": rows, "all_emails_s": all_emails_at, "cpu_s": herold.cpu_seconds(),
                "peak_rss_mib": herold.peak_rss_mib()}
    finally:
        herold.close()
        sink.close()
        slow.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main():
    args = parse()
    b.need("smtp-sink")
    b.unblock_signals()
    herold_bin = b.herold_binary(args.herold)
    checkpoints = [float(c) for c in args.checkpoints.split(",")]
    info = {"args": vars(args), "machine": b.machine()}
    runs = [once(args, herold_bin, checkpoints) for _ in range(args.reps)]
    info["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    rows = []
    for i, checkpoint in enumerate(checkpoints):
        sent = [r["checkpoints"][i]["emails_sent"] for r in runs]
        hooks = [r["checkpoints"][i]["webhooks_sent"] for r in runs]
        rows.append([f"{checkpoint:g} s", b.median(sent), runs[0]["checkpoints"][i]["emails"],
                     b.median(hooks), args.events, ", ".join(map(str, sent))])
    all_emails = [r["all_emails_s"] for r in runs]
    print(f"head-of-line: {args.events} events x ({args.recipients} emails to smtp-sink + 1 webhook to an "
          f"endpoint answering after {args.delay:g} s), smtp.max_connections "
          f"{args.smtp_connections or 'default'}, {args.reps} run(s); load "
          f"{info['machine']['loadavg_1m_at_start']} -> {info['machine']['loadavg_1m_at_end']}")
    print(b.table(["after", "emails sent (median)", "of", "webhooks sent", "of", "emails sent, each run"], rows))
    print("all emails sent after: " + ", ".join("not within the last checkpoint" if s is None else f"{s:.1f} s"
                                               for s in all_emails))
    path = b.save("head-of-line", {**info, "runs": runs})
    print(f"\nraw figures: {path}")


if __name__ == "__main__":
    main()
