#!/bin/bash
# demo.sh — thinkiosk on one machine, without a cloud: three real local desktops (RDP, SPICE, VNC;
# scripts/local-desktops/start.ts), the controller with the static backend (scripts/demo/inventory.yaml,
# user demo / demo) on http://127.0.0.1:8480, and the kiosk in front of it. `make demo` builds
# dist/ first. Ctrl+C stops everything this script started.
#   scripts/demo.sh [--no-kiosk]   --no-kiosk: desktops and controller only (a kiosk elsewhere, or curl)
set -euo pipefail
KIOSK=1
[ "${1:-}" = --no-kiosk ] && KIOSK=""

cd "$(dirname "$0")/.."
PORT=${THINKIOSK_DEMO_PORT:-8480}
CONTROLLER=http://127.0.0.1:$PORT
# These must match scripts/demo/inventory.yaml.
VNC_PORT=15901 SPICE_PORT=15902 RDP_PORT=13389 DISPLAY_BASE=41
VNC_PASSWORD=demo-vnc SPICE_PASSWORD=demo-spice

scripts/install-deps.sh demo
[ -f dist/scripts/local-desktops/start.js ] && [ -f dist/controller/main.js ] \
  || { echo "demo: dist/ is not built; run 'make demo' (it builds first)" >&2; exit 1; }

work=$(mktemp -d /tmp/thinkiosk-demo.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  # Newest first: the kiosk, then the controller, then the desktops (which stop their own servers).
  for (( i=${#pids[@]}-1; i>=0; i-- )); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  echo "demo: stopped"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fail WHAT LOG: say what did not start and show the end of its log.
fail() { echo "demo: $1 did not start. The end of its log ($2):" >&2; tail -n 15 "$2" >&2; exit 1; }

echo "demo: starting the local desktops (Xvnc, QEMU SPICE, freerdp-shadow) ..."
node dist/scripts/local-desktops/start.js --work-dir "$work/desktops" --display-base "$DISPLAY_BASE" \
  --vnc-port "$VNC_PORT" --spice-port "$SPICE_PORT" --rdp-port "$RDP_PORT" \
  --vnc-password "$VNC_PASSWORD" --spice-password "$SPICE_PASSWORD" --rdp-user demo --rdp-password demo \
  >"$work/desktops.json" 2>"$work/desktops.log" &
pids+=($!)
until grep -q '"ready":true' "$work/desktops.json" 2>/dev/null; do
  kill -0 "${pids[0]}" 2>/dev/null || fail "the local desktops" "$work/desktops.log"
  sleep 0.3
done

cat >"$work/controller.json" <<JSON
{ "name": "thinkiosk demo", "backend": "static",
  "listen": { "host": "127.0.0.1", "port": $PORT }, "stateDir": "$work/controller-state",
  "static": { "inventoryFile": "$PWD/scripts/demo/inventory.yaml" } }
JSON
# A fixed key for this run only: without one the controller warns that sessions die with it.
THINKIOSK_SESSION_KEYS=$(openssl rand -base64 32) node dist/controller/main.js --config "$work/controller.json" 2>"$work/controller.log" &
pids+=($!)
until curl -sf -o /dev/null "$CONTROLLER/v1/identity"; do
  kill -0 "${pids[1]}" 2>/dev/null || fail "the controller" "$work/controller.log"
  sleep 0.3
done

# The fleet: a site token for the demo kiosk (its preset's fleet_token, below), made through the
# admin API as the demo's administrator, as an admin would on the fleet page.
admin_token=$(curl -sf -XPOST "$CONTROLLER/v1/session" -d '{"username":"admin","password":"admin"}' | sed 's/.*"token":"\([^"]*\)".*/\1/' || true)
site_token=$(curl -sf -XPOST "$CONTROLLER/v1/admin/enrolment/tokens" -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  -d '{"label":"demo kiosk"}' | sed 's/.*"token":"\([^"]*\)".*/\1/' || true)
[ -n "$site_token" ] || fail "the fleet (a site token for the kiosk)" "$work/controller.log"

cat <<MSG

thinkiosk demo — everything on 127.0.0.1, log in as demo / demo
  (the kiosk's Settings ask a site administrator to sign in and set a PIN first: admin / admin)
  controller   $CONTROLLER/v1/identity   (static backend, scripts/demo/inventory.yaml; log $work/controller.log)
  fleet        $CONTROLLER/admin/   the admin page: sign in as admin / admin; the demo kiosk is on it
  Windows      RDP   127.0.0.1:$RDP_PORT   freerdp-shadow on X display :$((DISPLAY_BASE + 1)), NLA as demo / demo
  Linux        SPICE 127.0.0.1:$SPICE_PORT   QEMU, ticket $SPICE_PASSWORD
  Other        VNC   127.0.0.1:$VNC_PORT   Xvnc on X display :$DISPLAY_BASE, password $VNC_PASSWORD
  (server logs in $work/desktops/log)
  T=\$(curl -s -XPOST $CONTROLLER/v1/session -d '{"username":"demo","password":"demo"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
  curl -s $CONTROLLER/v1/desktops -H "Authorization: Bearer \$T"
Ctrl+C stops everything.

MSG

# The kiosk: Electron when its binary is there (it cannot be downloaded everywhere), otherwise the
# browser shell on Debian's Chromium. Its settings live in this run's directory; without a display
# the shell runs Chromium on a virtual one and says how to look at it.
if [ -z "$KIOSK" ]; then
  echo "demo: --no-kiosk: waiting for Ctrl+C"
else
  # The same preset file the appliance reads from its boot partition.
  printf 'controller = %s\nfleet_token = %s\n' "$CONTROLLER" "$site_token" >"$work/thinkiosk.conf"
  export THINKIOSK_SETTINGS_DIR="$work/kiosk" THINKIOSK_PRESET="$work/thinkiosk.conf"
  if [ -x node_modules/electron/dist/electron ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
    echo "demo: kiosk: Electron"
    node_modules/electron/dist/electron dist/app/electron/main.js &
  else
    echo "demo: kiosk: browser shell on Debian's Chromium (no Electron binary here, or no display)"
    node dist/app/shell/main.js &
  fi
  pids+=($!)
fi
# Whichever ends first (the kiosk closing, or a server dying) ends the demo.
wait -n
