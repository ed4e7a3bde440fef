#!/bin/bash
# bench.sh — benchmarks (not tests): the controller shim vs direct OpenStack calls, side by side in
# one run against the same real cloud. Brings the test cloud up unless one is already running.
set -euo pipefail
cd "$(dirname "$0")/.."
started=""
if ! curl -sf -o /dev/null http://127.0.0.1:5000/v3; then
  scripts/install-deps.sh; scripts/test-cloud/up.sh; started=1
fi
status=0
node dist/bench/controller-bench.js || status=$?
[ -n "$started" ] && scripts/test-cloud/up.sh down >/dev/null 2>&1
exit $status
