#!/usr/bin/env bash
# Head-of-line blocking: emails sent while one webhook endpoint answers after 20 s.
# bench/head-of-line.sh --help for the options; see bench/README.md.
exec python3 "$(dirname "$0")/head_of_line.py" "$@"
