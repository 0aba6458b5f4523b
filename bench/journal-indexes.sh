#!/usr/bin/env bash
# What the deliveries table's indexes cost on their own (herold's schema, SQLite alone).
# bench/journal-indexes.sh --help for the options; see bench/README.md.
exec python3 "$(dirname "$0")/journal_indexes.py" "$@"
