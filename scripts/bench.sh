#!/bin/bash
# bench.sh — benchmarks (not tests), each printing ratios against a baseline run side by side:
#   controller-bench      the controller shim vs direct OpenStack calls, against the real test cloud
#                         (brought up unless one is already running);
#   kiosk-bench           Connect → first correct frame through the kiosk vs a bare viewer, per
#                         protocol, and the kiosk's memory (real local desktops, no cloud);
#   native-viewers-bench  xfreerdp / remote-viewer start-up and memory;
#   fleet-bench           5,000 simulated kiosks checking in every 60 s: one controller on SQLite,
#                         two on one PostgreSQL, each against the same controllers answering only
#                         /v1/identity at that rate (latency p50/p99, CPU, memory, ratios);
#   image-bench           the arm64 image vs a minimal Debian from the same recipe: sizes, build
#                         time, boot to ready vs to a login prompt in QEMU, memory (needs root; run
#                         after the cloud is stopped, whose load would slow the emulated boots);
#   netboot-bench         power-on → kiosk ready for a netbooted PC vs the same kiosk from a local
#                         disk in the same QEMU, one alone and four at once (needs root);
#   update-bench          the PC image updating itself in QEMU (UEFI): a bundle downloaded and
#                         written by the box while its kiosk runs, a pulled plug mid-write, the
#                         trial boot vs a normal boot, a broken version rolled back (needs root).
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
node dist/bench/fleet-bench.js || status=$?
[ -n "$started" ] && scripts/test-cloud/up.sh down >/dev/null 2>&1
node dist/bench/image-bench.js || status=$?
node dist/bench/netboot-bench.js || status=$?
node --test dist/bench/update-bench.js || status=$?
exit $status
