#!/bin/bash
# run-tests.sh [unit] — run the test suites with node's test runner; the last line it prints is
# "N passed, N failed". Without "unit" it first brings up the test cloud (scripts/test-cloud/up.sh)
# and stops it afterwards; THINKIOSK_CLOUD_REUSE=1 uses an already running one and leaves it up.
set -uo pipefail
cd "$(dirname "$0")/.."
files=(dist/test/unit/*.test.js)
cloud_started=""
if [ "${1:-}" != unit ]; then
  if [ "${THINKIOSK_CLOUD_REUSE:-}" = 1 ] && curl -sf -o /dev/null http://127.0.0.1:5000/v3; then
    echo "tests: reusing the running test cloud"
  else
    scripts/test-cloud/up.sh || { echo "tests: the test cloud did not come up (logs: /var/tmp/thinkiosk-cloud/log)"; echo "0 passed, 1 failed"; exit 1; }
    cloud_started=1
  fi
  # peers: real local desktop servers and native viewers; kiosk: the real UI in Chromium; cloud: OpenStack.
  shopt -s nullglob
  files+=(dist/test/peers/*.test.js dist/test/kiosk/*.test.js dist/test/cloud/*.test.js)
fi
# One file at a time: the cloud tests share one cloud and change its servers' power state.
node --test --test-concurrency=1 --test-reporter=./dist/test/reporter.js --test-reporter-destination=stdout "${files[@]}"
status=$?
[ -n "$cloud_started" ] && scripts/test-cloud/up.sh down >/dev/null 2>&1
exit $status
