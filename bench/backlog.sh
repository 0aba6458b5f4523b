#!/usr/bin/env bash
# Start-up, memory and status with 100,000 queued deliveries for a relay that is down.
# bench/backlog.sh --help for the options; see bench/README.md.
exec python3 "$(dirname "$0")/backlog.py" "$@"
