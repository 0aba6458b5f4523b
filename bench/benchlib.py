"""Shared parts of herold's benchmarks: real sinks on 127.0.0.1, a throw-away herold site,
`herold serve` under a NOTIFY_SOCKET, /proc figures, a read-only look at the journal, and the
tables. Python 3 standard library only.

The sinks are the real programs a user would compare herold with: Postfix's `smtp-sink` and
nginx answering 204. Slow and failing servers that those cannot play are small Python
servers here (a webhook endpoint that answers after N seconds, a relay that says 421).
"""
import datetime
import http.server
import itertools
import json
import os
import shutil
import signal
import socket
import socketserver
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, "results")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FROM = "Powiadomienia ROPS Kraków <powiadomienia@rops.example.org>"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def need(*programs):
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        raise SystemExit(f"missing programs: {' '.join(missing)} "
                         "(Debian: apt-get install postfix nginx-light curl sqlite3 linux-perf)")


def herold_binary(path):
    path = os.path.abspath(path or os.path.join(ROOT, ".build", "release", "herold"))
    if not os.access(path, os.X_OK):
        raise SystemExit(f"no herold binary at {path}: swift build -c release --product herold")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process=None, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop(process, sig=signal.SIGTERM, timeout=30):
    """Ends one process we started, by its id; returns its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


# ---------------------------------------------------------------------------------- sinks

class SmtpSink:
    """Postfix's smtp-sink: accepts every message and throws it away (with `data_delay`, after
    sitting that many seconds on its reply to the end of DATA, as a relay with a content
    filter does). With `counting`, it
    runs with `-c` (after every session end, QUIT and "." it writes its running counters,
    `sess=N quit=N mesg=N` ended by a carriage return, to stdout, flushed at once) into a
    file, and `messages()` reads the last `mesg=` figure: the messages whose "." it got."""

    def __init__(self, counting=False, data_delay=0):
        self.port = free_port()
        command = ["smtp-sink"]
        if os.geteuid() == 0:
            command += ["-u", "nobody"]   # it refuses to run as root without a user to switch to
        if data_delay:
            command += ["-W", f".:{data_delay}"]   # whole seconds before the reply to the end of DATA
        self.counters = tempfile.NamedTemporaryFile(prefix="herold-bench-smtp-sink-") if counting else None
        command += ["-c"] if counting else []
        command += [f"127.0.0.1:{self.port}", "1000"]
        self.process = subprocess.Popen(command, stdout=self.counters or subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)
        self.url = f"smtp://127.0.0.1:{self.port}"

    def messages(self):
        """Messages received so far (only with `counting`)."""
        with open(self.counters.name, "rb") as f:
            f.seek(max(os.fstat(f.fileno()).st_size - 200, 0))
            tail = f.read().decode(errors="replace")
        figures = [line for line in tail.split("\r") if "mesg=" in line]
        return int(figures[-1].rsplit("mesg=", 1)[1].split()[0]) if figures else 0

    def pause(self):
        """SIGSTOP: connections are accepted by the kernel, but no greeting ever comes."""
        self.process.send_signal(signal.SIGSTOP)

    def close(self):
        self.process.send_signal(signal.SIGCONT)
        stop(self.process)
        if self.counters:
            self.counters.close()


NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {access_log};
    client_body_temp_path {dir}/body;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 204; }}
    }}
}}
"""


class Nginx:
    """nginx answering 204 to every request (and POST), with its own throw-away prefix. With
    `counting`, it keeps an access log (unbuffered: one write per request, after the reply)
    and `requests()` counts its lines; without, the log is off (it costs nginx time)."""

    def __init__(self, counting=False):
        self.dir = tempfile.mkdtemp(prefix="herold-bench-nginx-")
        self.port = free_port()
        self.access_log = os.path.join(self.dir, "access.log") if counting else None
        self._log_read = self._log_lines = 0
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, port=self.port, access_log=self.access_log or "off"))
        self.process = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def requests(self):
        """Requests answered so far (only with `counting`); reads only what the log gained
        since the last call, so that polling it often costs little."""
        try:
            with open(self.access_log, "rb") as f:
                f.seek(self._log_read)
                gained = f.read()
        except FileNotFoundError:
            return 0
        self._log_read += len(gained)
        self._log_lines += gained.count(b"\n")
        return self._log_lines

    def close(self):
        stop(self.process, signal.SIGQUIT)
        shutil.rmtree(self.dir, ignore_errors=True)


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(self.server.delay)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with self.server.lock:
            self.server.answered += 1

    def log_message(self, *args):
        pass


class SlowWebhook:
    """A webhook endpoint that answers 204 after `delay` seconds (a partner having a bad day)."""

    def __init__(self, delay):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
        self.server.daemon_threads = True
        self.server.delay = delay
        self.server.lock = threading.Lock()
        self.server.answered = 0
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _RefusingHandler(socketserver.BaseRequestHandler):
    def handle(self):
        with self.server.lock:
            self.server.connections += 1
        try:
            self.request.sendall(b"421 4.3.2 Service not available, closing transmission channel\r\n")
        except OSError:
            pass


class DownRelay:
    """A relay that is down the polite way: it greets every connection with 421 and closes
    it, and counts the connections (what a relay's admin or fail2ban would see)."""

    def __init__(self):
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _RefusingHandler)
        self.server.daemon_threads = True
        self.server.lock = threading.Lock()
        self.server.connections = 0
        self.url = f"smtp://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def connections(self):
        with self.server.lock:
            return self.server.connections

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ----------------------------------------------------------------------------------- site

EMAIL_SUBJECT = "Życzenia z okazji Dnia Pracownika Socjalnego {{data.year}}"
EMAIL_TEXT = """{{#recipient.salutation}}{{recipient.salutation}}!{{/recipient.salutation}}\
{{^recipient.salutation}}Szanowni Państwo!{{/recipient.salutation}}

{{pl_data(event.time)}} obchodzimy Dzień Pracownika Socjalnego. Z tej okazji, w imieniu
Regionalnego Ośrodka Polityki Społecznej w Krakowie, przyjmijcie Państwo wyrazy szacunku
i podziękowania za Waszą codzienną, trudną i tak potrzebną pracę.

Pracowników pomocy społecznej dostrzegamy często w sytuacjach wyjątkowych, gdy pomoc
potrzebna jest natychmiast. Najcenniejsza jest jednak codzienna, żmudna praca – wtedy, gdy
wspieracie rodziny, osoby z niepełnosprawnościami, samotne, dotknięte przemocą
i bezdomnością.

Z wyrazami szacunku
Dyrekcja i pracownicy
Regionalnego Ośrodka Polityki Społecznej w Krakowie

Zdarzenie {{event.id}}
"""


def recipients(count):
    """`count` recipients; every other one is a map with a salutation, as in the example config."""
    entries = []
    for n in range(count):
        if n % 2 == 0:
            entries.append(f'    - {{ address: "odbiorca{n}@gops{n}.example.org", name: "GOPS nr {n}", '
                           f'salutation: "Szanowna Pani Dyrektor" }}')
        else:
            entries.append(f'    - "MOPS nr {n} <sekretariat{n}@mops{n}.example.org>"')
    return "\n".join(entries)


def write_site(root, smtp_url, webhooks, rules, recipient_count=2, smtp_extra="", top_extra="", hook_extra=""):
    """A herold site in `root`: herold.yaml, one email template (`greeting`), a webhook secret.
    `webhooks` maps an endpoint name to its URL; `rules` is the YAML text of the rules list."""
    os.makedirs(os.path.join(root, "templates", "greeting"), exist_ok=True)
    os.makedirs(os.path.join(root, "secrets"), exist_ok=True)
    with open(os.path.join(root, "secrets", "hub.whsec"), "w") as f:
        f.write(SECRET)
    for name, text in (("subject", EMAIL_SUBJECT), ("text", EMAIL_TEXT)):
        with open(os.path.join(root, "templates", "greeting", f"{name}.mustache"), "w") as f:
            f.write(text)
    hooks = "".join(f"""  {name}:
    url: {url}
    secret_file: secrets/hub.whsec
    allow_private: true
{hook_extra}""" for name, url in webhooks.items())
    config = os.path.join(root, "herold.yaml")
    with open(config, "w") as f:
        f.write(f"""timezone: Europe/Warsaw
spool: ./spool
state: ./state
{top_extra}smtp:
  url: {smtp_url}
  tls: none
  from: "{FROM}"
{smtp_extra}webhooks:
{hooks or "  {}"}
recipients:
  bench:
{recipients(recipient_count)}
rules:
{rules}
""")
    return config


def set_smtp_url(config, url):
    with open(config) as f:
        lines = f.read().splitlines(keepends=True)
    with open(config, "w") as f:
        f.writelines(f"  url: {url}\n" if line.startswith("  url: smtp://") else line for line in lines)


def event(n, type_, run, now):
    return {"specversion": "1.0", "id": f"{run}-{n}", "source": "https://rops.example.org/bench",
            "type": type_, "time": now, "datacontenttype": "application/json",
            "data": {"year": 2026, "n": n, "program": "Dzień Pracownika Socjalnego"}}


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds")


class Drop:
    """Event files written into SPOOL/tmp beforehand; `go()` renames them all into SPOOL/new
    (the producer protocol) and returns the moment of the first rename."""

    def __init__(self, spool, events, per_file, tag="e"):
        self.tmp, self.new = os.path.join(spool, "tmp"), os.path.join(spool, "new")
        os.makedirs(self.tmp, exist_ok=True)
        os.makedirs(self.new, exist_ok=True)
        self.names = []
        for first in range(0, len(events), per_file):
            chunk = events[first:first + per_file]
            name = f"{tag}-{first:08d}.json"
            with open(os.path.join(self.tmp, name), "w", encoding="utf-8") as f:
                json.dump(chunk[0] if per_file == 1 else chunk, f, ensure_ascii=False)
            self.names.append(name)
        self.files = len(self.names)

    def go(self):
        started = time.monotonic()
        for name in self.names:
            os.rename(os.path.join(self.tmp, name), os.path.join(self.new, name))
        self.seconds = time.monotonic() - started
        return started

    @staticmethod
    def go_together(drops):
        """Renames the files of several drops (one per node) in turn, one of each, so that
        every node's spool fills at the same pace; returns the moment of the first rename."""
        started = time.monotonic()
        for names in itertools.zip_longest(*(drop.names for drop in drops)):
            for drop, name in zip(drops, names):
                if name is not None:
                    os.rename(os.path.join(drop.tmp, name), os.path.join(drop.new, name))
        seconds = time.monotonic() - started
        for drop in drops:
            drop.seconds = seconds
        return started


# --------------------------------------------------------------------------------- herold

class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def wait_for(self, word, timeout):
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                message = self.sock.recv(4096).decode(errors="replace")
            except socket.timeout:
                break
            if word in message.split("\n"):
                return time.monotonic()
        raise SystemExit(f"herold sent no {word} within {timeout} s")

    def close(self):
        self.sock.close()
        os.unlink(self.path)


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS   # utime + stime (fields 14, 15)


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def proc_context_switches(pid):
    """Voluntary + involuntary context switches of all live threads."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if "ctxt_switches" in line:
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


class Herold:
    """`herold serve` on a site, started with a NOTIFY_SOCKET; `ready_seconds` is the time
    from exec to READY=1."""

    def __init__(self, binary, config, ready_timeout=120):
        self.binary, self.config = binary, config
        site = os.path.dirname(config)
        self.notify = NotifySocket(site)
        self.log = open(os.path.join(site, "herold.log"), "a")
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path)
        started = time.monotonic()
        self.process = subprocess.Popen([binary, "serve", "--config", config], env=env,
                                        stdout=self.log, stderr=self.log)
        try:
            self.ready_seconds = self.notify.wait_for("READY=1", ready_timeout) - started
        except SystemExit:
            stop(self.process, signal.SIGKILL)
            raise
        self.pid = self.process.pid
        self.journal_path = os.path.join(site, "state", "journal.sqlite")

    def cpu_seconds(self):
        return proc_cpu_seconds(self.pid)

    def peak_rss_mib(self):
        return proc_status_kib(self.pid, "VmHWM") / 1024

    def rss_mib(self):
        return proc_status_kib(self.pid, "VmRSS") / 1024

    def context_switches(self):
        return proc_context_switches(self.pid)

    def command(self, *args):
        """Runs `herold ARGS --config ...`: (wall s, CPU s, peak RSS MiB, exit code, stdout)."""
        return run_rusage([self.binary, *args, "--config", self.config], capture=True)

    def close(self, sig=signal.SIGTERM):
        code = stop(self.process, sig, timeout=60)
        self.log.close()
        self.notify.close()
        return code


def run_rusage(command, capture=False):
    """Runs a command: (wall s, CPU s, peak RSS MiB, exit code, stdout text or None). CPU is
    the kernel's rusage of that one child (wait4). Peak RSS is its VmHWM, read every few ms
    while it runs: rusage's ru_maxrss would include the Python process it was forked from."""
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out if capture else subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            try:
                peak = max(peak, proc_status_kib(process.pid, "VmHWM"))
            except (FileNotFoundError, ProcessLookupError):
                pass
            time.sleep(0.003)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace") if capture else None
    return wall, usage.ru_utime + usage.ru_stime, peak / 1024, process.returncode, text


class Journal:
    """A read-only look at herold's journal (SQLite in WAL mode; never written here)."""

    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise SystemExit(f"no journal at {path}")
            time.sleep(0.05)
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)

    def counts(self, channel=None):
        sql = "SELECT state, count(*) FROM deliveries"
        sql += " WHERE channel = ? GROUP BY state" if channel else " GROUP BY state"
        return dict(self.db.execute(sql, (channel,) if channel else ()).fetchall())

    def close(self):
        self.db.close()


def wait_in_journal(journal, expected, spool_new, timeout):
    """Polls until the journal holds `expected` deliveries and spool/new is empty (every file
    removed after its commit; `spool_new` may be a list, one per node); returns that moment
    (monotonic)."""
    spools = [spool_new] if isinstance(spool_new, str) else spool_new
    deadline = time.monotonic() + timeout
    while sum(journal.counts().values()) < expected or any(os.listdir(spool) for spool in spools):
        if time.monotonic() > deadline:
            raise SystemExit(f"not all {expected} deliveries in the journal within {timeout} s: {journal.counts()}")
        time.sleep(0.02)
    return time.monotonic()


def wait_all_sent(journal, expected, timeout, poll=0.02, on_ingested=None):
    """Polls the journal until `expected` deliveries are sent. Returns (moment all were in the
    journal, moment all were sent), monotonic; raises on timeout or a failed/held delivery."""
    deadline = time.monotonic() + timeout
    ingested = None
    while time.monotonic() < deadline:
        counts = journal.counts()
        if ingested is None and sum(counts.values()) >= expected:
            ingested = time.monotonic()
        if counts.get("sent", 0) >= expected:
            return ingested or time.monotonic(), time.monotonic()
        if counts.get("failed") or counts.get("held") or counts.get("deferred"):
            raise SystemExit(f"deliveries did not all go through: {counts}")
        time.sleep(poll)
    raise SystemExit(f"not all {expected} deliveries sent within {timeout} s: {journal.counts()}")


# ---------------------------------------------------------------------------------- report

def median(values):
    return statistics.median(values) if values else None


def table(headers, rows):
    """A plain text table, numbers right-aligned."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)),
             "  ".join("-" * w for w in widths)]
    for row, raw in zip(cells, rows):
        lines.append("  ".join(c.rjust(w) if isinstance(v, (int, float)) else c.ljust(w)
                               for c, w, v in zip(row, widths, raw)))
    return "\n".join(lines)


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        if value >= 100:
            return f"{value:,.0f}"
        if value >= 1:
            return f"{value:.2f}"
        return f"{value:.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def machine():
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "loadavg_1m_at_start": round(load[0], 2),
            "kernel": os.uname().release, "time": now_rfc3339()}


def save(name, data):
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json")
    with open(path, "w") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
    return path


def unblock_signals():
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGCHLD])
