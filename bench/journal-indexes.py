#!/usr/bin/env python3
"""What the deliveries table's indexes cost on their own: the journal's insert, claim and outcome
statements run by Python's sqlite3 (synchronous=OFF, no herold), 50,000 deliveries, with all seven
indexes ("none" dropped), without (state, not_before) ("state"), and with only the primary key and
(destination, state, not_before) ("all"). Prints CPU microseconds per delivery; see bench/PROFILE.md."""
import sqlite3, time, sys, os
def run(drop):
    fn=f"/tmp/herold-journal-indexes-{drop}.db"
    if os.path.exists(fn): os.remove(fn)
    db=sqlite3.connect(fn, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=OFF")
    db.executescript("""
CREATE TABLE deliveries (id TEXT PRIMARY KEY NOT NULL, event_source TEXT NOT NULL, event_id TEXT NOT NULL, rule TEXT NOT NULL, action INTEGER NOT NULL, channel TEXT NOT NULL, recipient TEXT NOT NULL, not_before REAL NOT NULL, state TEXT NOT NULL, payload TEXT, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, updated_at REAL NOT NULL, last_attempt_at REAL, sent_at REAL, expires_at REAL, first_attempt_at REAL, destination TEXT NOT NULL DEFAULT '', content_erased_at REAL);
CREATE INDEX deliveries_event ON deliveries (event_source, event_id);
CREATE INDEX deliveries_destination_due ON deliveries (destination, state, not_before);
CREATE INDEX deliveries_content_due ON deliveries (updated_at) WHERE content_erased_at IS NULL AND state IN ('failed', 'sent');
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE state IN ('failed', 'sent');
CREATE INDEX deliveries_recipient ON deliveries (recipient COLLATE NOCASE);
CREATE TABLE attempts (delivery_id TEXT NOT NULL, at REAL NOT NULL, outcome TEXT NOT NULL, code TEXT, message TEXT);
CREATE INDEX attempts_delivery ON attempts (delivery_id, at);
""")
    if drop=="none": db.execute("CREATE INDEX deliveries_state_not_before ON deliveries (state, not_before)")
    if drop=="all":
        for i in ["deliveries_event","deliveries_content_due","deliveries_finished","deliveries_recipient"]: db.execute(f"DROP INDEX {i}")
    N=50000; payload="x"*900
    t=time.process_time()
    for b in range(0,N,250):
        db.execute("BEGIN")
        for i in range(b,b+250):
            db.execute("INSERT INTO deliveries (id,event_source,event_id,rule,action,channel,recipient,not_before,state,payload,created_at,updated_at,destination) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
              (f"hd_{i:020d}abcdef","bench",f"ev{i}","r",0,"webhook","hub",1000.0+i,"queued",payload,1.0*i,1.0*i,"webhook:hub"))
        db.execute("COMMIT")
    for b in range(0,N,16):
        db.execute("BEGIN")
        for i in range(b,b+16):
            db.execute("UPDATE deliveries SET state='inflight', updated_at=? WHERE id=?", (2e6+i, f"hd_{i:020d}abcdef"))
        db.execute("COMMIT")
        db.execute("BEGIN")
        for i in range(b,b+16):
            db.execute("UPDATE deliveries SET state='sent', updated_at=?, sent_at=?, attempts=attempts+1 WHERE id=?", (3e6+i,3e6+i, f"hd_{i:020d}abcdef"))
            db.execute("INSERT INTO attempts VALUES (?,?,?,?,?)", (f"hd_{i:020d}abcdef", 3e6+i, "sent", "204", "No Content"))
        db.execute("COMMIT")
    cpu = (time.process_time()-t)/N*1e6
    db.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(fn + suffix): os.remove(fn + suffix)
    return cpu
for rep in range(3):
    for d in ["none","state","all"]:
        print(rep, d, f"{run(d):.1f} us/delivery")
