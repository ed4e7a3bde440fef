# Step "update bundle": the signed update (contract/update-bundle.ts) a running kiosk installs into
# its other slot, written next to the .img.xz from the root partition image of the step "disk image"
# (root.ext4, with its kernel and initramfs in /boot: image/ab-slots.md): NAME.tkupdate and
# NAME.tkupdate.sha256.
#
# The signing key (Ed25519) is the build machine's: THINKIOSK_UPDATE_KEY, by default
# $WORK_ROOT/keys/update-signing.pem, made at the first build. Only its public key goes into the
# image (/usr/share/thinkiosk/update-keys/<key id>.pub): kiosks flashed from this image accept
# bundles signed with this key and no other. The private key is never in the image, the repository
# or the log. The kiosk variant only (the minimal one has no kiosk to install anything).

UPDATE_KEY=${THINKIOSK_UPDATE_KEY:-$WORK_ROOT/keys/update-signing.pem}
BUNDLE_CLI="$REPO_DIR/dist/app/core/update/bundle-cli.js"
UPDATE_KEYS_IN_IMAGE=usr/share/thinkiosk/update-keys

# Before the image's cache key is taken: the image holds the public key, so another key is another
# image (the base root file system does not hold it, and its key stays as it is).
prepare_update_key() {
  [ -f "$BUNDLE_CLI" ] || die "dist/app/core/update/bundle-cli.js is missing: run 'make build' first"
  case "$(realpath -m "$UPDATE_KEY")/" in
    "$REPO_DIR"/*) die "THINKIOSK_UPDATE_KEY=$UPDATE_KEY is inside the repository: keep the signing key outside it (the default is $WORK_ROOT/keys/update-signing.pem)" ;;
  esac
  local answer
  answer=$(node "$BUNDLE_CLI" key --key "$UPDATE_KEY") || die "the update signing key $UPDATE_KEY cannot be used (see above)"
  UPDATE_KEY_ID=${answer%% *}
  if [ "${answer#* }" = created ]; then
    log "   !!! new update signing key at $UPDATE_KEY (key $UPDATE_KEY_ID); keep it: kiosks flashed from this image trust only it"
  else
    log "   update signing key $UPDATE_KEY_ID ($UPDATE_KEY)"
  fi
}

# Called by the step "configure root file system": the public key the kiosk checks bundles with.
install_update_public_key() {
  node "$BUNDLE_CLI" key --key "$UPDATE_KEY" --public-dir "$ROOTFS/$UPDATE_KEYS_IN_IMAGE" >/dev/null \
    || die "the public update key could not be written into the image"
  [ -f "$ROOTFS/$UPDATE_KEYS_IN_IMAGE/$UPDATE_KEY_ID.pub" ] || die "the signing key changed during the build (expected key $UPDATE_KEY_ID)"
  log "   update key: /$UPDATE_KEYS_IN_IMAGE/$UPDATE_KEY_ID.pub"
}

write_update_bundle() {
  local name=$NAME dir="$CACHE_IMAGE_DIR" compression=brotli build bytes
  # --fast: gzip (a root file system in ~35 s on one core); otherwise Brotli (~15% smaller, ~5x slower).
  [ "$FAST" = 1 ] && compression=gzip
  build="$(date -u +%Y%m%dT%H%M%SZ)-$KEY"
  [ -f "$PARTS_DIR/root.ext4" ] || die "the root partition image of the step 'disk image' is gone ($PARTS_DIR)"
  log "   $compression of the root, $(( $(stat -c %s "$PARTS_DIR/root.ext4") / 1048576 )) MiB"
  # Its progress lines go into the build log like every step's (pipefail keeps node's exit status).
  nice -n 10 node "$BUNDLE_CLI" write --key "$UPDATE_KEY" --root "$PARTS_DIR/root.ext4" \
    --version "$VERSION" --build "$build" --arch "$ARCH" --compression "$compression" --out "$dir/$name.tkupdate" \
    | while IFS= read -r line; do log "$line"; done || die "writing the update bundle failed (see above)"
  (cd "$dir" && sha256sum "$name.tkupdate" >"$name.tkupdate.sha256")
  bytes=$(stat -c %s "$dir/$name.tkupdate")
  log "   update bundle: $name.tkupdate ($(( bytes / 1048576 )) MiB, version $VERSION build $build, signed by key $UPDATE_KEY_ID)"
  rm -rf "$PARTS_DIR"
}
