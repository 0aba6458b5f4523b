#!/usr/bin/env bash
# The retention simulation at full scale: three simulated years at 1,000 events a day
# (RetentionSimulationTests; CI runs it at 50 a day), on a release build. Prints the journal's
# size with retention, after two years, and without retention; fails over the stated bound.
#   bench/rodo-retention.sh [EVENTS_PER_DAY]
set -euo pipefail
cd "$(dirname "$0")/.."
export HEROLD_RETENTION_EVENTS_PER_DAY="${1:-1000}"
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release --skip-build -Xswiftc -enable-testing \
    --filter 'HeroldStoreTests.RetentionSimulationTests' 2>&1 | grep -E "retention simulation|error|passed|failed"
