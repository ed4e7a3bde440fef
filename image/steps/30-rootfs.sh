# Step "base root file system": Debian trixie from Debian's packages with mmdebstrap (arm64 runs
# its maintainer scripts through qemu-user). The result is cached under $WORK_ROOT/base/ by a hash
# of everything that goes into it, so a re-run with the same package lists costs a copy, not a
# bootstrap. (The initramfs is not made here: the step "boot files" makes it on the build machine.)

SUITE=trixie
MIRROR=${THINKIOSK_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${THINKIOSK_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# The kiosk's packages, or the minimal variant's (the system part alone: the benchmark's baseline).
variant_list() { [ "${VARIANT:-kiosk}" = minimal ] && echo "$IMAGE_DIR/packages/minimal.list" || echo "$IMAGE_DIR/packages/common.list"; }

package_list() { # the packages for $ARCH, comma-separated
  grep -hv '^\s*#' "$(variant_list)" "$IMAGE_DIR/packages/$ARCH.list" | awk 'NF {print $1}' | paste -sd, -
}

# Bump when the mmdebstrap command below changes what it produces (its inputs are hashed anyway).
BASE_RECIPE=2  # 2: no initramfs in the base (the step "boot files" makes it)

base_key() {
  { echo "$BASE_RECIPE $SUITE $ARCH $MIRROR $SECURITY_MIRROR"
    hash_inputs "$(variant_list)" "$IMAGE_DIR/packages/$ARCH.list"
  } | sha256sum | cut -c1-16
}

stamp_lines() { local line; while IFS= read -r line; do printf '%(%H:%M:%S)T %s\n' -1 "$line"; done; }

build_base_rootfs() {
  local key dir prefix=${CACHE_PREFIX:-$ARCH} t0
  t0=$(date +%s)
  key=$(base_key); dir="$WORK_ROOT/base/$prefix-$key"
  BASE_ROOTFS="$dir/rootfs" BASE_DIR=$dir BASE_REUSED=yes
  if [ -f "$dir/complete" ]; then
    log "   reusing the base root file system $dir (inputs unchanged)"
    return 0
  fi
  BASE_REUSED=no
  unmount_under "$WORK_ROOT/base/$prefix-"
  rm -rf "$WORK_ROOT/base/$prefix-"*  # one base per architecture (and variant) is enough
  mkdir -p "$dir" "$WORK_ROOT/apt-cache/$ARCH"
  if [ "$ARCH" = arm64 ] && [ "$(dpkg --print-architecture)" != arm64 ]; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
    grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null \
      || die "arm64 programs cannot run here: install qemu-user-static and binfmt-support (scripts/install-deps.sh) and check /proc/sys/fs/binfmt_misc/qemu-aarch64"
  fi
  curl -sfI --max-time 20 "$MIRROR/dists/$SUITE/InRelease" >/dev/null \
    || die "Debian's mirror $MIRROR is not reachable (set THINKIOSK_MIRROR to another Debian mirror)"
  log "   mmdebstrap $SUITE $ARCH: $(package_list | tr ',' ' ' | wc -w) packages (+ dependencies), log $dir/mmdebstrap.log"
  # Debian's kernel package needs an initramfs tool, so initramfs-tools comes with it; its
  # update-initramfs is diverted to /bin/true while packages are installed and never makes one (under
  # qemu-user one costs minutes). The image's initramfs is made by the step "boot files".
  # Documentation, manual pages and translations are not unpacked (nobody reads them on a kiosk).
  # --verbose and a time on every line: the log shows where a bootstrap's minutes go.
  if ! nice -n 10 mmdebstrap --verbose --mode=root --arch="$ARCH" --variant=minbase \
      --components=main,contrib,non-free-firmware \
      --aptopt='APT::Install-Recommends "false"' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
      --dpkgopt='path-exclude=/usr/share/lintian/*' \
      --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
      --skip=download/empty --skip=essential/unlink \
      --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\"" \
      --setup-hook="sync-in '$WORK_ROOT/apt-cache/$ARCH' /var/cache/apt/archives/" \
      --essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && ln -s /bin/true "$1/usr/sbin/update-initramfs"' \
      --include="$(package_list)" \
      --customize-hook="sync-out /var/cache/apt/archives '$WORK_ROOT/apt-cache/$ARCH'" \
      --customize-hook='rm "$1/usr/sbin/update-initramfs" && chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs' \
      "$SUITE" "$dir/rootfs" \
      "deb $MIRROR $SUITE main contrib non-free-firmware" \
      "deb $MIRROR $SUITE-updates main contrib non-free-firmware" \
      "deb $SECURITY_MIRROR $SUITE-security main contrib non-free-firmware" 2>&1 | stamp_lines >"$dir/mmdebstrap.log"; then
    tail -25 "$dir/mmdebstrap.log" >&2
    grep -qiE 'No space left' "$dir/mmdebstrap.log" && die "the disk under $WORK_ROOT is full"
    grep -qiE 'Could not resolve|Failed to fetch|Connection failed|Unable to connect' "$dir/mmdebstrap.log" \
      && die "downloading packages from $MIRROR failed (mirror unreachable?); full log $dir/mmdebstrap.log"
    die "mmdebstrap failed; full log $dir/mmdebstrap.log"
  fi
  ls "$dir/rootfs"/boot/vmlinuz-* >/dev/null 2>&1 || die "no kernel was installed (see $dir/mmdebstrap.log)"
  ! ls "$dir/rootfs"/boot/initrd.img-* >/dev/null 2>&1 || die "Debian's initramfs tool made an initramfs after all (see $dir/mmdebstrap.log): the image makes its own"
  awk '/^Package: /{p=$2} /^Version: /{v=$2} /^Architecture: /{a=$2} /^$/{if (p) print p, v, a; p=""}' "$dir/rootfs/var/lib/dpkg/status" | sort >"$dir/packages.txt"
  echo "$(( $(date +%s) - t0 ))" >"$dir/build-seconds"  # the build's own record (bench/image-bench.ts)
  touch "$dir/complete"
  log "   base root file system: $(du -sxh "$dir/rootfs" | cut -f1), $(wc -l <"$dir/packages.txt") packages"
}
