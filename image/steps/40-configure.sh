# Step "configure root file system": a copy of the cached base root, then rootfs-overlay/ (every
# file the image adds), the kiosk app in /opt/thinkiosk, the kiosk user and the enabled units. All
# of it runs on the build machine (systemd-sysusers and systemctl with --root), not under qemu-user.

ENABLED_UNITS="thinkiosk-kiosk.service thinkiosk-reboot.path thinkiosk-health-gate.service thinkiosk-update.path thinkiosk-update-target.path thinkiosk-update-target.timer thinkiosk-preset.service thinkiosk-grow-data.service thinkiosk-boot-server.service seatd.service NetworkManager.service ssh.service systemd-timesyncd.service"
# Nothing waits for the network at boot, nothing updates a root that is read-only anyway, and SSH
# host keys are made by apply-preset on the settings partition (not in RAM at every boot).
DISABLED_UNITS="NetworkManager-wait-online.service sshd-keygen.service apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer"

configure_rootfs() {
  ROOTFS="$WORK_DIR/rootfs"
  rm -rf "$ROOTFS"
  cp -a "$BASE_ROOTFS" "$ROOTFS"
  if [ "${VARIANT:-kiosk}" = minimal ]; then configure_minimal; else configure_kiosk; fi
  prune_kernel_modules || return 1
  prune_files || return 1
  prune_wifi_firmware || return 1

  # Nothing that must differ between cards or that nobody may have: SSH host keys (made on the
  # card), the machine id (made at every boot), passwords (root stays locked).
  rm -f "$ROOTFS"/etc/ssh/ssh_host_*
  : >"$ROOTFS/etc/machine-id"; rm -f "$ROOTFS/var/lib/dbus/machine-id"
  awk -F: '$2 != "*" && $2 != "!" && $2 !~ /^!/ {bad=1; print "account with a password: " $1} END {exit bad}' "$ROOTFS/etc/shadow" \
    || die "the image would have an account with a password"
  # The root never changes on the card: no package lists, no apt caches.
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb
  # The boot partition is mounted here; its files go to the FAT partition (step "boot files").
  BOOT_FROM_ROOTFS="$WORK_DIR/rootfs-boot"
  rm -rf "$BOOT_FROM_ROOTFS"; mkdir -p "$BOOT_FROM_ROOTFS"
  [ -d "$ROOTFS/boot/firmware" ] && mv "$ROOTFS/boot/firmware" "$BOOT_FROM_ROOTFS/firmware"
  mkdir -p "$ROOTFS/boot/firmware" "$ROOTFS/var/lib/thinkiosk" "$ROOTFS/media/root-ro" "$ROOTFS/media/root-rw"
  if [ "${VARIANT:-kiosk}" = minimal ]; then log "   root file system: $(du -sxh "$ROOTFS" | cut -f1) (minimal: no kiosk)"
  else log "   root file system: $(du -sxh "$ROOTFS" | cut -f1), kiosk user $(grep '^kiosk:' "$ROOTFS/etc/passwd" | cut -d: -f3)"; fi
}

configure_kiosk() {
  # Owned by root whoever checked out the repository; symlinked directories (/lib -> usr/lib) kept.
  tar -C "$REPO_DIR/rootfs-overlay" --owner=0 --group=0 -cf - . | tar -C "$ROOTFS" -xpf - --keep-directory-symlink
  log "   rootfs-overlay: $(find "$REPO_DIR/rootfs-overlay" -type f -o -type l | wc -l) files"

  mkdir -p "$ROOTFS/opt/thinkiosk"
  cp -a "$APP_STAGE/." "$ROOTFS/opt/thinkiosk/"
  chown -R 0:0 "$ROOTFS/opt/thinkiosk"
  # Which build this is, for the fleet's inventory (app/core/fleet/inventory.ts): the version, the
  # architecture and the hash of the build's inputs (the cache key: same inputs, same image).
  printf 'thinkiosk %s %s (%s)\n' "$VERSION" "$ARCH" "$KEY" >"$ROOTFS/etc/thinkiosk-release"
  install_update_public_key  # image/steps/75-bundle.sh

  chroot "$ROOTFS" systemd-sysusers /usr/lib/sysusers.d/thinkiosk.conf >/dev/null 2>&1
  grep -q '^kiosk:' "$ROOTFS/etc/passwd" || die "the kiosk user was not created"
  # shellcheck disable=SC2086
  systemctl --root="$ROOTFS" enable $ENABLED_UNITS >/dev/null 2>&1 || die "systemctl enable failed"
  local unit
  for unit in $DISABLED_UNITS; do systemctl --root="$ROOTFS" disable "$unit" >/dev/null 2>&1 || true; done
  systemctl --root="$ROOTFS" set-default graphical.target >/dev/null 2>&1
}

# The minimal variant (the benchmark's baseline): the same read-only root, disk layout, journal and
# watchdog settings, nothing of the kiosk; systemd starts a login prompt on the serial console.
MINIMAL_OVERLAY="etc/fstab etc/hostname etc/hosts etc/systemd/journald.conf.d etc/systemd/system.conf.d"

configure_minimal() {
  # shellcheck disable=SC2086
  (cd "$REPO_DIR/rootfs-overlay" && tar --owner=0 --group=0 -cf - $MINIMAL_OVERLAY) | tar -C "$ROOTFS" -xpf - --keep-directory-symlink
  log "   rootfs-overlay (minimal): $MINIMAL_OVERLAY"
  systemctl --root="$ROOTFS" set-default multi-user.target >/dev/null 2>&1
}

# The kernel modules image/prune/modules-<arch>.list names (directories no board of this image
# uses) are removed, with every module that needs one of them (modules.dep lists all that a module
# needs, so one pass finds them; the build log names them), and the module index is rebuilt with the
# build machine's depmod (its indexes are the format trixie's modprobe reads; under qemu-user
# depmod takes a minute).
prune_kernel_modules() {
  local list="$IMAGE_DIR/prune/modules-$ARCH.list" kver modules dir before after orphans
  [ -f "$list" ] || return 0
  kver=$(ls "$ROOTFS/usr/lib/modules" | sort -V | tail -1)
  modules="$ROOTFS/usr/lib/modules/$kver"
  before=$(du -sm "$modules" | cut -f1)
  for dir in $(grep -v '^\s*#' "$list" | awk 'NF {print $1}'); do
    case "$dir" in *..*|/*) die "image/prune/modules-$ARCH.list: '$dir' is not a directory under kernel/" ;; esac
    [ -d "$modules/kernel/$dir" ] || die "image/prune/modules-$ARCH.list: kernel/$dir is not in the kernel $kver (remove the line)"
    rm -rf "${modules:?}/kernel/$dir"
  done
  orphans=$( (cd "$modules" && find kernel -name '*.ko*') | awk -F': ?' '
      FNR == NR { present[$0] = 1; next }
      ($1 in present) { n = split($2, deps, " "); for (i = 1; i <= n; i++) if (!(deps[i] in present)) { print $1; break } }' - "$modules/modules.dep")
  for dir in $orphans; do rm -f "${modules:?}/$dir"; done
  [ -z "$orphans" ] || log "   also removed, as they need a removed module: $(echo "$orphans" | sed 's|.*/||; s|\.ko.*||' | tr '\n' ' ')"
  depmod -b "$ROOTFS" "$kver" || die "depmod failed for the kernel $kver"
  after=$(du -sm "$modules" | cut -f1)
  log "   kernel modules: $before MiB → $after MiB (image/prune/modules-$ARCH.list)"
}

# Wi-Fi firmware (firmware-brcm80211) for the chips on a Pi only: BCM43430 (Pi 3 B, Zero 2 W),
# BCM43436 (Zero 2 W) and BCM43455 (Pi 3 B+, 4, 400, CM4). The package carries every Broadcom and
# Cypress chip of other boards and PCIe cards (about 15 MB). Links to a removed file go too.
PI_WIFI_CHIPS='4343[06]|43455'
prune_wifi_firmware() {
  local dir before after
  [ "$ARCH" = arm64 ] && [ "${VARIANT:-kiosk}" = kiosk ] || return 0
  before=$(du -sm "$ROOTFS/usr/lib/firmware" | cut -f1)
  for dir in "$ROOTFS/usr/lib/firmware/brcm" "$ROOTFS/usr/lib/firmware/cypress"; do
    [ -d "$dir" ] || die "no $dir: is firmware-brcm80211 still in image/packages/arm64.list?"
    find "$dir" -mindepth 1 -maxdepth 1 \( -type f -o -type l \) | grep -Ev "/[^/]*(${PI_WIFI_CHIPS})[^/]*$" | while read -r f; do rm -f "$f"; done
    find "$dir" -xtype l -delete
  done
  [ -e "$ROOTFS/usr/lib/firmware/brcm/brcmfmac43455-sdio.bin" ] && [ -e "$ROOTFS/usr/lib/firmware/brcm/brcmfmac43430-sdio.bin" ] \
    || die "the Pi's Wi-Fi firmware went with the others (prune_wifi_firmware)"
  after=$(du -sm "$ROOTFS/usr/lib/firmware" | cut -f1)
  log "   Wi-Fi firmware for the Pi's chips only: $before MiB → $after MiB"
}

# The root never changes on the card, yet systemd's jobs for the first boot after /usr changed
# (ldconfig, systemd-sysusers, the journal's message catalog, systemd-update-done: the units with
# ConditionNeedsUpdate=/etc or /var) ran at every boot, ldconfig on the way to sysinit.target
# (~3 s under TCG): they compare /usr's time with /etc/.updated and /var/.updated, which the RAM
# overlay never keeps. Their work is done here once, on the final root (after the prunes, so the
# library cache lists no removed library), and the two stamps are written as systemd-update-done
# writes them. Runs under qemu-user for arm64 (a second or two).
mark_root_updated() {
  local stamp file
  chroot "$ROOTFS" /sbin/ldconfig || die "ldconfig in the root file system failed"
  chroot "$ROOTFS" systemd-sysusers >/dev/null 2>&1 || die "systemd-sysusers in the root file system failed"
  chroot "$ROOTFS" journalctl --update-catalog >/dev/null 2>&1 || die "journalctl --update-catalog in the root file system failed"
  stamp="TIMESTAMP_NSEC=$(stat -c '%.9Y' "$ROOTFS/usr" | tr -d .)"
  for file in etc/.updated var/.updated; do
    printf '# Written by image/steps/40-configure.sh (mark_root_updated), as systemd-update-done does.\n%s\n' "$stamp" >"$ROOTFS/$file"
    touch -r "$ROOTFS/usr" "$ROOTFS/$file"
  done
}

# The files image/prune/files.list names (developers' and tests' tools, and the OpenGL drivers,
# that nothing on the kiosk loads). A line may be a shell pattern (`*`: the architecture's library
# directory, a version that changes with Debian's updates); each line must match something, so a
# line that went stale with a package update stops the build instead of silently keeping the files.
prune_files() {
  local pattern match freed=0 matched
  [ "${VARIANT:-kiosk}" = kiosk ] || return 0
  while read -r pattern; do
    case "$pattern" in *..*|/*) die "image/prune/files.list: '$pattern' must be a path inside the root file system" ;; esac
    matched=no
    for match in "$ROOTFS"/$pattern; do
      [ -e "$match" ] || [ -L "$match" ] || continue
      matched=yes
      freed=$(( freed + $(du -sb "$match" | cut -f1) ))
      rm -rf "${match:?}"
    done
    [ "$matched" = yes ] || die "image/prune/files.list: /$pattern is not in the root file system (remove the line)"
  done < <(grep -v '^\s*#' "$IMAGE_DIR/prune/files.list" | awk 'NF {print $1}')
  log "   left out (image/prune/files.list): $(( freed / 1048576 )) MiB"
}
