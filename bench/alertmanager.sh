#!/usr/bin/env bash
# Prometheus Alertmanager's emails/s and webhooks/s on the same sinks as herold (for ratios).
# bench/alertmanager.sh --help for the options; see bench/README.md.
exec python3 "$(dirname "$0")/alertmanager.py" "$@"
