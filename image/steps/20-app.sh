# Step "kiosk app": the kiosk as built by `make build` (dist/app, dist/contract, dist/www; dist/pxe:
# the boot server) plus its
# production node_modules for the image's architecture (node-pty is native: cross-compiled for
# arm64 with Debian's aarch64 compiler against Node's headers), and Electron when its binary for
# that architecture can be fetched; otherwise the browser shell on Debian's Chromium. The result
# is staged in $APP_STAGE (becomes /opt/thinkiosk); node_modules are cached by package-lock hash.

NODE_ARCH_arm64=arm64
NODE_ARCH_amd64=x64

stage_app() {
  local dist="$REPO_DIR/dist"
  for part in app/shell/main.js app/core/kiosk-runtime.js app/core/system/admin-pin.js contract/preset/apply-preset-cli.js www/app/ui/index.html pxe/main.js; do
    [ -e "$dist/$part" ] || die "dist/$part is missing: run 'make build' first (the image packages the built kiosk)"
  done
  APP_STAGE="$WORK_DIR/app"
  rm -rf "$APP_STAGE"; mkdir -p "$APP_STAGE/dist"
  # Copied at once, so a concurrent 'make build' elsewhere is not half-seen later in the build.
  cp -a "$dist/app" "$dist/contract" "$dist/www" "$dist/pxe" "$APP_STAGE/dist/"
  find "$APP_STAGE/dist" -name '*.map' -delete
  cp "$REPO_DIR/package.json" "$APP_STAGE/"   # "type": "module" for dist/*.js
  stage_node_modules
  cp -a "$NODE_MODULES_DIR/node_modules" "$APP_STAGE/"
  try_electron
  log "   kiosk app staged: $(du -sh "$APP_STAGE" | cut -f1) (shell: $KIOSK_SHELL)"
}

stage_node_modules() {
  local arch=${ARCH} key
  key=$(hash_inputs "$REPO_DIR/package-lock.json" "$REPO_DIR/package.json" "$IMAGE_DIR/steps/20-app.sh")
  NODE_MODULES_DIR="$WORK_ROOT/node-modules/$arch-$key"
  if [ -f "$NODE_MODULES_DIR/complete" ]; then log "   reusing production node_modules for $arch"; return 0; fi
  rm -rf "$WORK_ROOT/node-modules/$arch-"*; mkdir -p "$NODE_MODULES_DIR"
  cp "$REPO_DIR/package.json" "$REPO_DIR/package-lock.json" "$NODE_MODULES_DIR/"
  local -a env=(npm_config_nodedir=/usr)
  local node_arch_var="NODE_ARCH_$arch"
  if [ "$arch" = arm64 ] && [ "$(uname -m)" != aarch64 ]; then
    need_tool aarch64-linux-gnu-g++ g++-aarch64-linux-gnu
    env+=(npm_config_arch=arm64 CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar LINK=aarch64-linux-gnu-g++)
  else
    env+=(npm_config_arch="${!node_arch_var}")
  fi
  [ -f /usr/include/node/node_api.h ] || die "Node's headers (/usr/include/node) are missing: install nodejs with its headers"
  # The controller's own packages (package.json's thinkiosk.controllerOnly: its web server,
  # database drivers, ...) are never loaded on the appliance: dropping them keeps the image small
  # and skips building better-sqlite3 for arm64. npm install then follows the lock file for the rest.
  (cd "$NODE_MODULES_DIR" && node -e '
    const fs = require("fs"); const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
    for (const name of p.thinkiosk.controllerOnly) { if (!p.dependencies[name]) throw new Error(`controllerOnly: ${name} is not a dependency`); delete p.dependencies[name]; delete p.allowScripts?.[name]; }
    fs.writeFileSync("package.json", JSON.stringify(p, null, 2));') || die "package.json: thinkiosk.controllerOnly names a package that is not a dependency"
  log "   npm install --omit=dev (lock file's versions, no controller packages) for $arch (node-pty built for ${!node_arch_var})"
  (cd "$NODE_MODULES_DIR" && env "${env[@]}" nice -n 10 npm install --omit=dev --no-audit --no-fund --loglevel=error) >"$NODE_MODULES_DIR/npm.log" 2>&1 \
    || { tail -20 "$NODE_MODULES_DIR/npm.log" >&2; die "npm ci failed (npm registry unreachable? log $NODE_MODULES_DIR/npm.log)"; }
  local pty="$NODE_MODULES_DIR/node_modules/node-pty"
  local want; [ "$arch" = arm64 ] && want='ARM aarch64' || want='x86-64'
  file "$pty/build/Release/pty.node" | grep -q "$want" || die "node-pty was not built for $arch: $(file "$pty/build/Release/pty.node")"
  # Only the built addon is used on Linux: drop other systems' prebuilt binaries and the sources.
  rm -rf "$pty/prebuilds" "$pty/deps" "$pty/third_party" "$pty/src" "$pty/node-addon-api" \
    "$pty/build/Release/obj.target" "$pty/build/Release/.deps" "$pty/build/Release/obj" "$pty/build/deps"
  find "$pty/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  [ ! -e "$NODE_MODULES_DIR/node_modules/fastify" ] || die "the controller's packages ended up in the kiosk's node_modules"
  touch "$NODE_MODULES_DIR/complete"
}

# Electron's npm package fetches its binary at install time. Try that for the image's architecture
# (briefly: without a network it fails fast or times out) and fall back to the browser shell.
try_electron() {
  KIOSK_SHELL=browser
  local electron_pkg="$REPO_DIR/node_modules/electron"
  if [ ! -f "$electron_pkg/install.js" ]; then
    log "   Electron: npm package not installed (npm ci) — using the browser shell on Debian's Chromium"
    return 0
  fi
  local node_arch_var="NODE_ARCH_$ARCH" try="$WORK_DIR/electron-try"
  rm -rf "$try"; mkdir -p "$try/node_modules"
  cp -a "$electron_pkg" "$try/node_modules/electron"
  rm -rf "$try/node_modules/electron/dist" "$try/node_modules/electron/path.txt"
  local rc=0
  (cd "$try" && NODE_PATH="$REPO_DIR/node_modules" npm_config_arch="${!node_arch_var}" npm_config_platform=linux \
    ELECTRON_CACHE="$WORK_ROOT/electron-cache" timeout "${THINKIOSK_ELECTRON_TIMEOUT:-25}" node node_modules/electron/install.js) >"$try/install.log" 2>&1 || rc=$?
  if [ "$rc" = 0 ] && [ -f "$try/node_modules/electron/path.txt" ]; then
    KIOSK_SHELL=electron
    mkdir -p "$APP_STAGE/electron"
    cp -a "$try/node_modules/electron/dist/." "$APP_STAGE/electron/"
    log "   Electron $(node -p "require('$electron_pkg/package.json').version") for linux-${!node_arch_var} fetched: the kiosk runs in Electron"
  else
    local why
    if [ "$rc" = 124 ]; then why="no answer within ${THINKIOSK_ELECTRON_TIMEOUT:-25}s"
    else why=$(grep -m1 -oE '(getaddrinfo |connect )?E[A-Z_]{3,}[^,)]*|HTTPError[^,]*|[0-9]{3} [A-Z][a-z ]+' "$try/install.log" || tail -1 "$try/install.log" | cut -c1-100); fi
    log "   Electron binary for linux-${!node_arch_var} could not be fetched ($why) — using the browser shell on Debian's Chromium"
  fi
  rm -rf "$try"
}
