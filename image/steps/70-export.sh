# Step "outputs": the block map (bmaptool: flash only what is used, verify what was written), the
# compressed image, its checksum and a manifest (package versions, kiosk shell, sizes); for the
# Raspberry Pi image, Raspberry Pi Imager's manifest too (write_imager_manifest). Everything
# is written under a temporary name and renamed at the end, so a failed or interrupted build
# never leaves a half-written image behind.

export_outputs() {
  local name=$NAME dir="$CACHE_IMAGE_DIR"
  bmaptool -q create -o "$dir/$name.img.bmap.partial" "$DISK_IMAGE" || die "bmaptool create failed"
  mv "$dir/$name.img.bmap.partial" "$dir/$name.img.bmap"
  local level=-6; [ "$FAST" = 1 ] && level=-0
  log "   xz $level of $(du -m "$DISK_IMAGE" | cut -f1) MiB of data"
  nice -n 10 xz -T0 "$level" -c "$DISK_IMAGE" >"$dir/$name.img.xz.partial" || die "xz failed (disk full?)"
  mv "$dir/$name.img.xz.partial" "$dir/$name.img.xz"
  (cd "$dir" && sha256sum "$name.img.xz" >"$name.img.xz.sha256")
  # The raw image's too: Raspberry Pi Imager's manifest (extract_sha256) is written from it at every
  # publish, also of a reused build, without reading the whole image again.
  sha256sum "$DISK_IMAGE" | awk -v n="$name.img" '{print $1 "  " n}' >"$dir/$name.img.sha256"
  {
    echo "# thinkiosk $VERSION $ARCH image manifest"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "debian: $SUITE ($MIRROR)"
    echo "kernel: $KERNEL_VERSION"
    echo "kiosk-shell: ${KIOSK_SHELL:-none (minimal variant)}"
    echo "app: $(cd "$REPO_DIR" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$REPO_DIR" && git diff --quiet HEAD -- app contract 2>/dev/null || echo ' (with local changes)')"
    echo "image-bytes: $(stat -c %s "$DISK_IMAGE")"
    echo "xz-bytes: $(stat -c %s "$dir/$name.img.xz")"
    echo "root-installed-bytes: $(du -sxb "$ROOTFS" | cut -f1)"
    echo "partitions: boot ${BOOT_MIB}MiB, root ${ROOT_MIB}MiB (read-only), settings ${DATA_MIB}MiB (grows at first boot)"
    echo "# packages (name version architecture)"
    chroot_free_packages
  } >"$dir/$name.manifest.partial"
  mv "$dir/$name.manifest.partial" "$dir/$name.manifest"
  mv "$DISK_IMAGE" "$dir/$name.img"
}

# The package list as dpkg sees it, read from its status file (no chroot, no emulator).
chroot_free_packages() {
  awk '/^Package: /{p=$2} /^Version: /{v=$2} /^Architecture: /{a=$2} /^Status: /{s=($0 ~ / installed$/)}
       /^$/{ if (s && p) print p, v, a; p=v=a=""; s=0 } END { if (s && p) print p, v, a }' "$ROOTFS/var/lib/dpkg/status" | sort
}

# Raspberry Pi Imager's manifest of the published Pi image, with its icon, in OUT_DIR
# (image/imager/manifest.ts): written at every publish, so that THINKIOSK_IMAGER_BASE_URL (where the
# files will be served; default: file:// URLs of OUT_DIR) applies to a reused build too.
write_imager_manifest() {
  [ "$ARCH" = arm64 ] && [ "$VARIANT" = kiosk ] || return 0
  local icon="$OUT_DIR/thinkiosk-icon.svg"
  cp "$IMAGE_DIR/imager/thinkiosk-icon.svg" "$icon"
  [ -f "$REPO_DIR/dist/image/imager/manifest.js" ] || die "dist/image/imager/manifest.js is missing: run 'make build' first"
  node "$REPO_DIR/dist/image/imager/manifest.js" --image "$OUT_DIR/$NAME.img" --xz "$OUT_DIR/$NAME.img.xz" --icon "$icon" \
    --version "$VERSION" --out "$OUT_DIR/$NAME.rpi-imager-manifest" --base-url "${THINKIOSK_IMAGER_BASE_URL:-}" >/dev/null \
    || die "the Raspberry Pi Imager manifest could not be written"
  log "   Raspberry Pi Imager: $OUT_DIR/$NAME.rpi-imager-manifest (init_format cloudinit${THINKIOSK_IMAGER_BASE_URL:+, files at $THINKIOSK_IMAGER_BASE_URL})"
}
