#!/usr/bin/env bash
# Throughput of herold's full durable path beside smtp-source and curl, in the same run.
# bench/run.sh --help for the options; see bench/README.md.
exec python3 "$(dirname "$0")/run.py" "$@"
