#!/usr/bin/env python3
"""A relay that is down: accepts each TCP connection, answers
"421 4.3.2 Service not available", and closes it. Counts connections.

    python3 dead_relay.py --port 0 --dir DIR

Binds 127.0.0.1 only, prints "READY <port>" once listening, then "CONNECT <n>" for each
connection; DIR/connections holds the count.
"""
import argparse
import os
import signal
import socket


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    os.makedirs(args.dir, exist_ok=True)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", args.port))
    server.listen(64)
    print(f"READY {server.getsockname()[1]}", flush=True)
    count = 0
    while True:
        connection, _ = server.accept()
        count += 1
        with open(os.path.join(args.dir, "connections.tmp"), "w") as f:
            f.write(str(count))
        os.rename(os.path.join(args.dir, "connections.tmp"), os.path.join(args.dir, "connections"))
        print(f"CONNECT {count}", flush=True)
        try:
            connection.sendall(b"421 4.3.2 Service not available\r\n")
        except OSError:
            pass
        connection.close()


if __name__ == "__main__":
    main()
