#!/usr/bin/env python3
"""A local HTTP sink for herold's tests: saves every request as N.json.

    python3 http_sink.py --port 0 --dir DIR [--status 204] [--delay SECONDS]
                         [--path-status /PATH=CODE] [--location URL] [--retry-after VALUE]
                         [--path-delay /PATH=SECONDS] [--path-retry-after /PATH=VALUE]
                         [--idle-timeout SECONDS]

Binds 127.0.0.1 only and prints "READY <port>" once listening (port 0 picks a free port).
N.json holds method, path, headers ([[name, value], ...] in order), body (text, UTF-8) and
body_base64, received_at (Unix time, float) and peer_port (the client's TCP port: requests
with the same port came over one kept-alive connection). --path-status, --path-delay and
--path-retry-after override --status, --delay and --retry-after for one path; --path-status overrides the status for one path; --location is sent with 3xx
answers; --retry-after is sent with every non-2xx answer. --idle-timeout closes a kept-alive
connection that waited that long for its next request (as nginx's keepalive_timeout does).
"""
import argparse
import base64
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--status", type=int, default=204)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--path-status", action="append", metavar="/PATH=CODE")
    parser.add_argument("--location", default="http://127.0.0.1:1/elsewhere")
    parser.add_argument("--retry-after")
    parser.add_argument("--path-delay", action="append", metavar="/PATH=SECONDS")
    parser.add_argument("--path-retry-after", action="append", metavar="/PATH=VALUE")
    parser.add_argument("--idle-timeout", type=float, help="close a kept-alive connection idle this long")
    args = parser.parse_args()
    # A parent that blocks signals (a Swift test runner's thread) passes the mask on through
    # exec; unblock so "terminate" works, and exit at once on SIGTERM.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    os.makedirs(args.dir, exist_ok=True)
    per_path = {}
    for item in args.path_status or []:
        path, _, code = item.rpartition("=")
        per_path[path] = int(code)
    per_path_delay = {}
    for item in args.path_delay or []:
        path, _, seconds = item.rpartition("=")
        per_path_delay[path] = float(seconds)
    per_path_retry_after = {}
    for item in args.path_retry_after or []:
        path, _, value = item.rpartition("=")
        per_path_retry_after[path] = value
    state = {"count": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = args.idle_timeout  # None: wait for the next request as long as the client likes

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                state["count"] += 1
                n = state["count"]
            record = {
                "received_at": time.time(),
                "peer_port": self.client_address[1],
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("utf-8", errors="replace"),
                "body_base64": base64.b64encode(body).decode(),
            }
            base = os.path.join(args.dir, str(n))
            with open(base + ".json.tmp", "w", encoding="utf-8") as f:
                json.dump(record, f, ensure_ascii=False, indent=2)
            os.rename(base + ".json.tmp", base + ".json")
            bare = self.path.split("?")[0]
            delay = per_path_delay.get(bare, args.delay)
            if delay:
                time.sleep(delay)
            status = per_path.get(bare, args.status)
            retry_after = per_path_retry_after.get(bare, args.retry_after)
            answer = b"" if status == 204 or status < 200 else f"status {status}\n".encode()
            try:
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", args.location)
                if retry_after and not 200 <= status < 300:
                    self.send_header("Retry-After", retry_after)
                if status != 204:
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = handle_any

        def log_message(self, format, *arguments):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
