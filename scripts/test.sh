#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and integration tests that start the built
# herold against real SMTP (aiosmtpd) and HTTP servers on 127.0.0.1.
# Extra arguments go to `swift test` (e.g. --filter IntegrationTests).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
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
