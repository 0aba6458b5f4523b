#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start DIR` makes one in DIR (initdb),
# listening only on 127.0.0.1 on a free port, trust authentication (local tests only),
# fsync on, and prints its URL (postgresql://postgres@127.0.0.1:PORT/postgres);
# `stop DIR` stops it and removes DIR. As root the server runs as user postgres.
# `start DIR CERT KEY` also turns TLS on with that certificate and key (copied into DIR).
set -euo pipefail
BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$BIN/initdb" ] || { echo "pg-test-cluster: no PostgreSQL server found (install the postgresql package)" >&2; exit 1; }
cmd=${1:-}; dir=${2:-}; cert=${3:-}; key=${4:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start DIR [CERT KEY] | stop DIR" >&2; exit 2; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "$cmd" in
  start)
    # The server must not keep the caller's descriptors open (a test harness waiting on a
    # pipe or a socket would wait for the server's end): only 0, 1 and 2 go on.
    for fd in /proc/$$/fd/*; do
      n=${fd##*/}
      if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-" 2>/dev/null || true; fi
    done
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    tls=""
    if [ -n "$cert" ]; then
      cp "$cert" "$dir/server.crt"; cp "$key" "$dir/server.key"; chmod 600 "$dir/server.key"
      [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir/server.crt" "$dir/server.key"
      tls="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
    fi
    for try in 1 2 3 4 5; do
      port=$(free_port)
      if as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
          -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=on -c max_connections=200 $tls" \
          >/dev/null 2>&1; then
        echo "$port" >"$dir/port"
        echo "postgresql://postgres@127.0.0.1:$port/postgres"
        exit 0
      fi
    done
    echo "pg-test-cluster: the server did not start; see $dir/server.log:" >&2
    tail -20 "$dir/server.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
