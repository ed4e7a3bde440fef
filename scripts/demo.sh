#!/bin/bash
# demo.sh — the controller shim in front of a real local OpenStack, with demo users alice and bob.
# Installs what is missing, brings the test cloud up (about a minute), then runs the controller on
# http://127.0.0.1:8480 until Ctrl+C (and stops the cloud then).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/test-cloud/up.sh
trap 'scripts/test-cloud/up.sh down >/dev/null 2>&1 || true' EXIT
config=$(mktemp /tmp/thinkiosk-controller.XXXXXX.json)
cat >"$config" <<JSON
{ "name": "thinkiosk demo controller",
  "listen": { "host": "127.0.0.1", "port": ${THINKIOSK_DEMO_PORT:-8480} },
  "openstack": { "authUrl": "http://127.0.0.1:5000/v3", "defaultProject": "kiosk", "floatingIpPool": "public" } }
JSON
cat <<MSG

thinkiosk demo controller: http://127.0.0.1:${THINKIOSK_DEMO_PORT:-8480}/v1/identity   (users alice/alicepass, bob/bobpass)
  T=\$(curl -s -XPOST localhost:${THINKIOSK_DEMO_PORT:-8480}/v1/session -d '{"username":"alice","password":"alicepass"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
  curl -s localhost:${THINKIOSK_DEMO_PORT:-8480}/v1/desktops -H "Authorization: Bearer \$T"
Ctrl+C stops the controller and the cloud.

MSG
node dist/controller/main.js --config "$config"
