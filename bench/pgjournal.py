"""herold's shared journal on PostgreSQL, as the benchmarks see it: a fresh database per
measurement, the journal's counts on one kept connection (polled like the SQLite journal,
read only), and the CPU time the PostgreSQL server spent on it. Standard library only.
"""
import os

import pgwire
from benchlib import proc_cpu_seconds


class Server:
    """A server where the bench may create and drop databases (`--postgres URL`)."""

    def __init__(self, url):
        self.url = url
        self.count = 0
        admin = pgwire.Connection(url)
        try:
            self.version = admin.query("SHOW server_version")[0][0]
        finally:
            admin.close()

    def _admin(self, sql):
        admin = pgwire.Connection(self.url)
        try:
            admin.query(sql)
        finally:
            admin.close()

    def create(self):
        """A new empty database; returns its URL (the server's URL with that database)."""
        self.count += 1
        name = f"herold_bench_{os.getpid()}_{self.count}"
        self._admin(f"CREATE DATABASE {name}")
        return pgwire.with_database(self.url, name)

    def drop(self, url):
        name = url.rsplit("/", 1)[1]
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class Journal:
    """The journal's deliveries by state, like benchlib.Journal, on one connection."""

    def __init__(self, url, timeout=30):
        self.db = pgwire.Connection(url, timeout=timeout)

    def counts(self, channel=None):
        sql = "SELECT state, count(*) FROM deliveries"
        sql += f" WHERE channel = '{channel}' GROUP BY state" if channel in ("email", "webhook") else " GROUP BY state"
        return {state: int(n) for state, n in self.db.query(sql)}

    def server_pids(self):
        """The server processes working for this database (herold's connections, autovacuum)
        and for the whole server (WAL writer, checkpointer, ...); not this poller's own."""
        return [int(pid) for pid, in self.db.query(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND (datname = current_database() OR backend_type <> 'client backend')")]

    def close(self):
        self.db.close()


class ServerCpu:
    """CPU seconds of the PostgreSQL server processes between `start()` and `stop()`, read
    from /proc: only when the server runs on this machine (else None). A process that started
    in between counts from 0; one that ended in between is missed (herold keeps its
    connections, so that is rare)."""

    def __init__(self, journal):
        self.journal = journal
        self.before = {}

    def start(self):
        self.before = self._sample()

    def stop(self):
        after = self._sample()
        if after is None or self.before is None:
            return None
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in after.items())

    def _sample(self):
        sample = {}
        for pid in self.journal.server_pids():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if not f.read().startswith("postgres"):
                        return None   # another machine or another pid namespace
                sample[pid] = proc_cpu_seconds(pid)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
        return sample or None


def journal_yaml(url, node):
    """The `journal:` lines of herold.yaml for a node on the shared journal."""
    return f'journal: {{ url: "{url}", node: {node} }}\n'

