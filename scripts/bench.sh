#!/bin/bash
# bench.sh — benchmarks (not tests), each printing ratios against a baseline run side by side:
#   controller-bench      the controller shim vs direct OpenStack calls, against the real test cloud
#                         (brought up unless one is already running);
#   kiosk-bench           Connect → first correct frame through the kiosk vs a bare viewer, per
#                         protocol, and the kiosk's memory (real local desktops, no cloud);
#   native-viewers-bench  xfreerdp / remote-viewer start-up and memory.
set -euo pipefail
cd "$(dirname "$0")/.."
started=""
if ! curl -sf -o /dev/null http://127.0.0.1:5000/v3; then
  scripts/install-deps.sh; scripts/test-cloud/up.sh; started=1
fi
status=0
node dist/bench/controller-bench.js || status=$?
node dist/bench/kiosk-bench.js || status=$?
node dist/bench/native-viewers-bench.js || status=$?
[ -n "$started" ] && scripts/test-cloud/up.sh down >/dev/null 2>&1
exit $status
