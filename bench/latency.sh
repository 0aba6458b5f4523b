#!/usr/bin/env bash
# Latency from the rename into spool/new to the receiver, at 100 events/s, with direct sends as baseline.
# bench/latency.sh --help for the options; see bench/README.md.
exec python3 "$(dirname "$0")/latency.py" "$@"
