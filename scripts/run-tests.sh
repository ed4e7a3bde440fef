#!/bin/bash
# run-tests.sh [unit] — run the test suites with node's test runner; the last line it prints is
# "N passed, N failed". Without "unit" it first brings up the test cloud (scripts/test-cloud/up.sh)
# and stops it afterwards; THINKIOSK_CLOUD_REUSE=1 uses an already running one and leaves it up.
set -uo pipefail
cd "$(dirname "$0")/.."
files=(dist/test/unit/*.test.js dist/test/image/preset.test.js dist/test/image/flash.test.js)
cloud_started=""
late=()
if [ "${1:-}" != unit ]; then
  if [ "${THINKIOSK_CLOUD_REUSE:-}" = 1 ] && curl -sf -o /dev/null http://127.0.0.1:5000/v3; then
    echo "tests: reusing the running test cloud"
  else
    scripts/test-cloud/up.sh || { echo "tests: the test cloud did not come up (logs: /var/tmp/thinkiosk-cloud/log)"; echo "0 passed, 1 failed"; exit 1; }
    cloud_started=1
  fi
  # peers: real local desktop servers and native viewers; kiosk: the real UI in Chromium; cloud: OpenStack.
  shopt -s nullglob
  # pxe/boot-server: the boot server with real dnsmasq in network namespaces (seconds).
  # day: 30 people on one kiosk with outages (< 10 min), before the cloud tests change alice-linux's power.
  files+=(dist/test/peers/*.test.js dist/test/kiosk/*.test.js dist/test/day/day.test.js dist/test/pxe/boot-server.test.js dist/test/cloud/*.test.js)
  # The appliance images are built and booted in QEMU last, after the cloud is stopped: its libvirt
  # guest runs under TCG and would take CPU from the image's own emulated boots. Then diskless
  # clients netboot the amd64 image's kiosk (its build is reused from the image test).
  late=(dist/test/image/image.test.js dist/test/image/ab-update.test.js dist/test/pxe/netboot.test.js)
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# run FILES...: one file at a time (the cloud tests share one cloud and change its servers' power
# state); the reporter's last line is "N passed, N failed".
run() { node --test --test-concurrency=1 --test-reporter=./dist/test/reporter.js --test-reporter-destination=stdout "$@" | tee -a "$out"; }
status=0
run "${files[@]}" || status=1
[ -n "$cloud_started" ] && scripts/test-cloud/up.sh down >/dev/null 2>&1
if [ "${#late[@]}" -gt 0 ]; then run "${late[@]}" || status=1; fi
# One closing line for everything: the sum of the runs' own lines.
if [ "${#late[@]}" -gt 0 ]; then scripts/closing-count.sh <"$out"; fi
exit $status
