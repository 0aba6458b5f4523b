#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and integration tests that start the built
# herold against real SMTP (aiosmtpd) and HTTP servers on 127.0.0.1. A throwaway
# PostgreSQL cluster (scripts/pg-test-cluster.sh) runs for the journal contract tests,
# its URL in HEROLD_TEST_POSTGRES_URL, and is stopped afterwards.
# Extra arguments go to `swift test` (e.g. --filter IntegrationTests).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/herold-pg.XXXXXX")
trap 'bash scripts/pg-test-cluster.sh stop "$pgdir"' EXIT
HEROLD_TEST_POSTGRES_URL=$(bash scripts/pg-test-cluster.sh start "$pgdir") || exit 1
export HEROLD_TEST_POSTGRES_URL
log=$(mktemp)
swift test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# One plain closing line, from XCTest's overall summary.
summary=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1)
if [ -n "$summary" ]; then
  total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
  failed=$(sed -E 's/.*with ([0-9]+) failures?.*/\1/' <<<"$summary")
  echo "$((total - failed)) passed, $failed failed"
fi
rm -f "$log"
exit "$status"
