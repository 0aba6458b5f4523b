"""What the crash tests share: the sinks, a site, the journal's view and the verdict on what
the servers received (scripts/crash-test.py: one node; scripts/crash-test-two-nodes.py: two
nodes on one PostgreSQL journal)."""
import json
import os
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPPORT = os.path.join(ROOT, "Tests", "Support")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
RECIPIENTS = ["gops@example.org", "pcpr@example.org"]
DELIVERIES_PER_EVENT = len(RECIPIENTS) + 1


def start_sink(script, directory):
    process = subprocess.Popen([sys.executable, "-u", os.path.join(SUPPORT, script), "--port", "0", "--dir", directory],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    if not line.startswith("READY "):
        process.kill()
        raise SystemExit(f"{script} did not start: {line!r}")
    return process, int(line.split()[1])


def write_site(root, smtp_port, http_port, extra=""):
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
{extra}""")
    return config


def write_events(directory, numbers):
    """One event file per number; returns the paths."""
    paths = []
    for n in numbers:
        path = os.path.join(directory, f"e{n}.json")
        with open(path, "w") as f:
            json.dump({"specversion": "1.0", "id": f"e{n}", "source": "/crash-test", "type": "crash.test",
                       "data": {"n": n}}, f)
        paths.append(path)
    return paths


def status(herold, config):
    result = subprocess.run([herold, "status", "--config", config, "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)


class NotifySocket:
    """Where each daemon reports READY=1 (as to systemd), so a final stop meets a daemon that
    has started: a SIGTERM while the dynamic loader is still mapping libcurl's libraries,
    before main() runs, takes the default action whatever herold does."""

    def __init__(self, path):
        self.path = path
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(path)

    def environment(self):
        return {**os.environ, "NOTIFY_SOCKET": self.path}

    def drain(self):
        self.socket.setblocking(False)
        try:
            while self.socket.recv(4096):
                pass
        except BlockingIOError:
            pass

    def wait_ready(self, seconds):
        self.socket.settimeout(seconds)
        try:
            while True:
                if b"READY=1" in self.socket.recv(4096):
                    return True
        except socket.timeout:
            return False

    def close(self):
        self.socket.close()


def read_records(directory):
    records = []
    for name in os.listdir(directory):
        if name.endswith(".json"):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                records.append(json.load(f))
    return records


def verdict(mail_dir, http_dir, events, kills, max_repeats_per_kill):
    """What the servers received, grouped by what was meant (recipient + event), not by id:
    (problems, figures)."""
    mails, hooks = read_records(mail_dir), read_records(http_dir)
    ids_by_delivery = {}
    for mail in mails:
        key = ("email", mail["rcpt_tos"][0], (mail.get("subject") or "").removeprefix("Zdarzenie "))
        ids_by_delivery.setdefault(key, []).append(mail.get("message_id"))
    for hook in hooks:
        event = json.loads(hook["body"]).get("id")
        hook_id = next((v for k, v in hook["headers"] if k.lower() == "webhook-id"), None)
        ids_by_delivery.setdefault(("webhook", "hub", event), []).append(hook_id)
    wanted = {("email", r, f"e{n}") for n in range(events) for r in RECIPIENTS}
    wanted |= {("webhook", "hub", f"e{n}") for n in range(events)}
    expected = events * DELIVERIES_PER_EVENT
    missing = wanted - set(ids_by_delivery)
    unexpected = set(ids_by_delivery) - wanted
    mismatched = [k for k, ids in ids_by_delivery.items() if len(set(ids)) != 1]
    received = len(mails) + len(hooks)
    duplicates = received - len(ids_by_delivery)
    distinct_ids = len({i for ids in ids_by_delivery.values() for i in ids})
    problems = []
    if missing:
        problems.append(f"{len(missing)} deliveries never arrived, e.g. {sorted(missing)[:3]}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected deliveries, e.g. {sorted(unexpected)[:3]}")
    if mismatched:
        problems.append(f"{len(mismatched)} deliveries repeated with another id, e.g. {mismatched[:3]}")
    if distinct_ids != expected:
        problems.append(f"{distinct_ids} distinct ids, expected {expected}")
    if duplicates > kills * max_repeats_per_kill:
        problems.append(f"{duplicates} repeats for {kills} kills (allowed: {max_repeats_per_kill} per kill)")
    figures = {"expected_deliveries": expected, "received": received, "distinct_ids": distinct_ids,
               "duplicates": duplicates, "missing": len(missing)}
    return problems, figures
