#!/bin/bash
# image/build.sh — builds the thinkiosk appliance image from Debian trixie packages.
#
#   image/build.sh [--arch arm64|amd64] [--fast] [--out DIR] [--variant kiosk|minimal]
#
#   --arch     arm64 (Raspberry Pi 3/4, the default) or amd64 (PCs; same recipe)
#   --fast     quick xz for test builds (the image itself is the same)
#   --out      where the outputs go (default /var/tmp/thinkiosk-image/out)
#   --variant  kiosk (the default) or minimal: the benchmark's baseline, a plain Debian from the
#              same recipe (kernel, initramfs, disk layout) without the kiosk, booting to a login
#              prompt on the serial console (thinkiosk-minimal-<version>-<arch>.*)
#
# Outputs: thinkiosk-<version>-<arch>.img.xz, .img.bmap, .img.xz.sha256, .manifest, for the Pi a
# Raspberry Pi Imager manifest .rpi-imager-manifest with thinkiosk-icon.svg (and the raw .img for
# tests and for bmaptool), and the signed update bundle .tkupdate (+ .sha256; the kiosk variant;
# signing key THINKIOSK_UPDATE_KEY, see image/steps/75-bundle.sh). Steps (image/steps/): kiosk app →
# base root file system (mmdebstrap; cached) → configure (rootfs-overlay/, app, user, units) → boot
# files (boot/) → disk image → outputs → update bundle. A build whose inputs (package lists,
# overlay, boot files, the built app, the recipe, the update key) did not change is reused as it
# is. Needs root and the tools of scripts/install-deps.sh; works under /var/tmp/thinkiosk-image
# (THINKIOSK_IMAGE_WORK).
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH LC_ALL=C.UTF-8
BUILD_T0=$(date +%s)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ARCH=arm64 FAST=0 OUT_DIR=$WORK_ROOT/out VARIANT=kiosk
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCH=${2:-}; shift 2 ;;
    --fast) FAST=1; shift ;;
    --out) OUT_DIR=${2:-}; shift 2 ;;
    --variant) VARIANT=${2:-}; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
case "$ARCH" in arm64|amd64) ;; *) die "--arch must be arm64 or amd64" ;; esac
case "$VARIANT" in kiosk|minimal) ;; *) die "--variant must be kiosk or minimal" ;; esac
# Cache and work directories per variant: the kiosk's keep their names, the minimal's are apart.
CACHE_PREFIX=$ARCH; [ "$VARIANT" = minimal ] && CACHE_PREFIX=minimal-$ARCH
for s in "$IMAGE_DIR"/steps/*.sh; do source "$s"; done
VERSION=$(node -p "require('$REPO_DIR/package.json').version" 2>/dev/null || echo 0.0.0)
NAME="thinkiosk-$VERSION-$ARCH"; [ "$VARIANT" = minimal ] && NAME="thinkiosk-minimal-$VERSION-$ARCH"

check_host() {
  [ "$(id -u)" = 0 ] || die "run as root (the root file system holds root-owned files and device nodes): sudo make image"
  need_tool mmdebstrap mmdebstrap; need_tool mkfs.ext4 e2fsprogs; need_tool mkfs.vfat dosfstools
  need_tool mcopy mtools; need_tool sfdisk fdisk; need_tool bmaptool bmap-tools; need_tool xz xz-utils; need_tool cpio cpio; need_tool zstd zstd; need_tool depmod kmod; need_tool mkimage u-boot-tools
  need_tool node nodejs; need_tool npm npm; need_tool curl curl; need_tool systemd-sysusers systemd
  [ "$ARCH" = amd64 ] || need_tool qemu-aarch64-static qemu-user-static
  mkdir -p "$WORK_ROOT" "$OUT_DIR"
  local free; free=$(free_mib "$WORK_ROOT")
  [ "$free" -gt 8192 ] || die "only $free MiB free under $WORK_ROOT: a build needs about 8 GiB"
}

# The image is rebuilt exactly when something that goes into it changed (the minimal one has no app).
image_key() {
  { base_key
    if [ "$VARIANT" = minimal ]; then
      hash_inputs "$REPO_DIR/rootfs-overlay" "$REPO_DIR/boot" "$IMAGE_DIR" "$REPO_DIR/scripts/build-steps.sh" "$REPO_DIR/scripts/initramfs.sh" "$REPO_DIR/package.json"
      echo minimal
    else
      hash_inputs "$REPO_DIR/rootfs-overlay" "$REPO_DIR/boot" "$IMAGE_DIR" "$REPO_DIR/scripts/build-steps.sh" "$REPO_DIR/scripts/initramfs.sh" "$REPO_DIR/package-lock.json" "$REPO_DIR/package.json" \
        "$REPO_DIR/dist/app" "$REPO_DIR/dist/contract" "$REPO_DIR/dist/www"
      echo "update-key $UPDATE_KEY_ID"  # the image holds this public key (image/steps/75-bundle.sh)
    fi
    echo "$FAST"
  } | sha256sum | cut -c1-16
}

publish() { # hard links (same file system) or copies of the cached outputs in OUT_DIR
  local f
  for f in "$NAME.img.xz" "$NAME.img.xz.sha256" "$NAME.img.bmap" "$NAME.manifest" "$NAME.img" "$NAME.img.sha256" "$NAME.build" \
      "$NAME.tkupdate" "$NAME.tkupdate.sha256"; do
    rm -f "$OUT_DIR/$f"
    [ -e "$CACHE_IMAGE_DIR/$f" ] || continue  # (.build: images cached before builds kept a record)
    ln "$CACHE_IMAGE_DIR/$f" "$OUT_DIR/$f" 2>/dev/null || cp "$CACHE_IMAGE_DIR/$f" "$OUT_DIR/$f"
  done
  write_imager_manifest
}

# The build's own record, published with the image (bench/image-bench.ts reads it when the image is
# reused): the image's own steps, and the base root file system's build (cached apart, often older).
write_build_record() {
  local base born
  born=$(stat -c %W "$BASE_DIR/mmdebstrap.log" 2>/dev/null || echo 0)
  if [ -f "$BASE_DIR/build-seconds" ]; then base=$(cat "$BASE_DIR/build-seconds")
  elif [ "$born" -gt 0 ]; then base="$(( $(stat -c %Y "$BASE_DIR/complete") - born )) (from the file times of $BASE_DIR)"
  else base=unknown; fi
  { echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "image-steps-seconds: $(( $(date +%s) - IMAGE_T0 + APP_SECONDS ))"
    echo "base-seconds: $base"
    echo "base-reused: $BASE_REUSED"
  } >"$CACHE_IMAGE_DIR/$NAME.build"
}

summary() {
  local how=$1 xz_mib img_mib shell
  xz_mib=$(( $(stat -c %s "$OUT_DIR/$NAME.img.xz") / 1048576 ))
  img_mib=$(( $(stat -c %s "$OUT_DIR/$NAME.img") / 1048576 ))
  shell=$(sed -n 's/^kiosk-shell: //p' "$OUT_DIR/$NAME.manifest")
  [ "$VARIANT" = minimal ] && shell="minimal: no kiosk" || shell="kiosk in the $shell shell"
  log "image: $OUT_DIR/$NAME.img.xz ($xz_mib MiB; $img_mib MiB raw; $shell) $how in $(( $(date +%s) - BUILD_T0 ))s"
}

step "check the build machine" check_host
[ "$VARIANT" = minimal ] || step "update signing key" prepare_update_key
KEY=$(image_key)
CACHE_IMAGE_DIR="$WORK_ROOT/images/$CACHE_PREFIX-$KEY"
if [ -f "$CACHE_IMAGE_DIR/complete" ]; then
  publish
  summary "reused (inputs unchanged)"
  exit 0
fi
WORK_DIR="$WORK_ROOT/work-$CACHE_PREFIX"
rm -rf "$WORK_DIR"; mkdir -p "$WORK_DIR"
trap 'rc=$?; [ $rc -ne 0 ] && { rm -f "$OUT_DIR/$NAME".*.partial; log "build failed; nothing was published to $OUT_DIR"; }; exit $rc' EXIT
APP_T0=$(date +%s)
[ "$VARIANT" = minimal ] || step "kiosk app ($ARCH)" stage_app
APP_SECONDS=$(( $(date +%s) - APP_T0 ))
step "base root file system ($CACHE_PREFIX)" build_base_rootfs
IMAGE_T0=$(date +%s)
step "configure root file system" configure_rootfs
step "boot files" assemble_boot_files
step "disk image" assemble_disk_image
rm -rf "$WORK_ROOT/images/$CACHE_PREFIX-"*; mkdir -p "$CACHE_IMAGE_DIR"
step "outputs (bmap, xz, sha256, manifest)" export_outputs
[ "$VARIANT" = minimal ] || step "update bundle" write_update_bundle
write_build_record
touch "$CACHE_IMAGE_DIR/complete"
rm -rf "$WORK_DIR"
publish
summary "built"
