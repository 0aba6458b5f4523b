#!/usr/bin/env python3
"""What the `deliveries` table's indexes cost on their own, without herold around them.

    bench/journal-indexes.sh [--herold PATH] [--deliveries 50000] [--reps 3]

Starts `herold serve` once on an empty site so that it creates its journal, and copies that
journal's schema (`sqlite_master`: the `deliveries` and `attempts` tables and their indexes,
whatever the migrations made them) into a scratch file per variant. Each variant then runs what
herold's journal runs per delivery, through Python's sqlite3 with `synchronous=OFF` (no fsync):
an INSERT (in transactions of 250, as an ingest batch), a claim UPDATE to in flight (16 per
transaction, a lane 16 wide) and an outcome UPDATE to sent plus an INSERT into `attempts` (16 per
transaction). Variants: every index herold has; without `deliveries_state_not_before`; only the
primary key and `deliveries_destination_due` (what a lane's claim needs). Prints the median CPU
microseconds per delivery of each; see bench/PROFILE.md.
"""
import argparse
import os
import sqlite3
import tempfile
import time

import benchlib as b

RULES = """  - name: hub
    match: { type: bench.webhook }
    send:
      - webhook: { endpoint: hub }"""
KEEP_FOR_CLAIMS = {"deliveries_destination_due"}


def herold_schema(binary, work):
    """The CREATE statements of herold's `deliveries` and `attempts` tables and their indexes."""
    config = b.write_site(os.path.join(work, "site"), "smtp://127.0.0.1:9", {"hub": "http://127.0.0.1:9/hook"}, RULES)
    herold = b.Herold(binary, config)
    try:
        db = sqlite3.connect(f"file:{herold.journal_path}?mode=ro", uri=True)
        rows = db.execute("SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ('deliveries', 'attempts') "
                          "AND sql IS NOT NULL ORDER BY type = 'index', name").fetchall()
        db.close()
    finally:
        herold.close()
    return rows


def variants(schema):
    """(label, statements): every index; without (state, not_before); only what claims need."""
    tables = [sql for type_, _, sql in schema if type_ == "table"]
    indexes = [(name, sql) for type_, name, sql in schema if type_ == "index"]
    return [
        (f"every secondary index ({len(indexes)})", tables + [sql for _, sql in indexes]),
        ("without deliveries_state_not_before",
         tables + [sql for name, sql in indexes if name != "deliveries_state_not_before"]),
        ("primary key and destination_due only", tables + [sql for name, sql in indexes if name in KEEP_FOR_CLAIMS]),
    ]


def run(statements, path, n):
    """CPU microseconds per delivery for insert, claim and outcome of `n` deliveries."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    for sql in statements:
        db.execute(sql)
    ids = [f"hd_{i:020d}abcdef" for i in range(n)]
    payload = "x" * 900

    started = time.process_time()
    for start in range(0, n, 250):
        db.execute("BEGIN")
        for i in range(start, min(start + 250, n)):
            db.execute("INSERT INTO deliveries (id, event_source, event_id, rule, action, channel, recipient, "
                       "not_before, state, payload, created_at, updated_at, destination) VALUES (?, 'bench', ?, "
                       "'hub', 0, 'webhook', 'hub', ?, 'pending', ?, ?, ?, 'webhook:hub')",
                       (ids[i], f"ev{i}", 1000.0 + i, payload, 1.0 * i, 1.0 * i))
        db.execute("COMMIT")
    for start in range(0, n, 16):
        batch = range(start, min(start + 16, n))
        db.execute("BEGIN")
        for i in batch:
            db.execute("UPDATE deliveries SET state = 'inflight', attempts = attempts + 1, last_attempt_at = ?, "
                       "first_attempt_at = ?, updated_at = ? WHERE id = ?", (2e6 + i, 2e6 + i, 2e6 + i, ids[i]))
        db.execute("COMMIT")
        db.execute("BEGIN")
        for i in batch:
            db.execute("UPDATE deliveries SET state = 'sent', reason = NULL, sent_at = ?, updated_at = ? WHERE id = ? "
                       "AND state = 'inflight'", (3e6 + i, 3e6 + i, ids[i]))
            db.execute("INSERT INTO attempts (delivery_id, at, outcome, code, message) "
                       "VALUES (?, ?, 'sent', NULL, '204 No Content')", (ids[i], 3e6 + i))
        db.execute("COMMIT")
    cpu = time.process_time() - started
    db.close()
    return 1e6 * cpu / n


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--herold", help="the built binary whose schema is measured (default .build/release/herold)")
    p.add_argument("--deliveries", type=int, default=50000)
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    binary = b.herold_binary(args.herold)
    with tempfile.TemporaryDirectory(prefix="herold-bench-indexes-") as work:
        cases = variants(herold_schema(binary, work))
        results = {label: [] for label, _ in cases}
        for rep in range(args.reps):
            for n, (label, statements) in enumerate(cases):
                path = os.path.join(work, f"r{rep}-{n}.sqlite")
                results[label].append(run(statements, path, args.deliveries))
                b.log(f"rep {rep + 1}/{args.reps} {label}: {results[label][-1]:.1f} µs per delivery")
    print(f"{args.deliveries} deliveries per run, {args.reps} runs, synchronous=OFF; CPU µs per delivery")
    print(b.table(["schema", "median", "runs"],
                  [[label, f"{b.median(v):.1f}", ", ".join(f"{x:.1f}" for x in v)] for label, v in results.items()]))


if __name__ == "__main__":
    main()
