#!/bin/bash
# pxe/build-netboot.sh — the netboot files for the boot server, made from the built appliance
# images (image/build.sh), so a netbooted client runs exactly the SD image's root file system.
#
#   pxe/build-netboot.sh [--arch amd64] [--arch arm64] [--image-dir DIR] [--out DIR]
#
#   --arch       amd64 (PCs) and/or arm64 (Raspberry Pi 4/5, UEFI ARM64); default: both
#   --image-dir  where image/build.sh put thinkiosk-<version>-<arch>.img (default /var/tmp/thinkiosk-image/out)
#   --out        where the netboot tree goes (default /var/tmp/thinkiosk-pxe/out); it becomes OUT/netboot
#
# Output (OUT/netboot, see pxe/netboot-files.ts):
#   http/<arch>/vmlinuz, initrd.img, root.squashfs   kernel, this directory's initramfs, the image's root
#   tftp/undionly.kpxe, snponly.efi, ipxe-arm64.efi  the first stage per firmware (Debian's iPXE)
#   tftp/rpi/                                        Raspberry Pi firmware, config.txt, kernel, initramfs
#   SHA256SUMS, manifest.txt
# Steps per architecture: root file system (the image's root partition, read through fuse2fs:
# no loop mount) → squashfs → kernel → initramfs (pxe/initramfs, busybox and the kernel's modules)
# → Pi boot files; then the first-stage loaders, checksums and manifest. Each architecture is
# root file system is cached by the image's checksum.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH LC_ALL=C.UTF-8
PXE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_NAME=netboot
source "$PXE_DIR/../scripts/build-steps.sh"
source "$PXE_DIR/../scripts/initramfs.sh"
WORK_ROOT=${THINKIOSK_PXE_WORK:-/var/tmp/thinkiosk-pxe}
MIRROR=${THINKIOSK_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
ARCHES=() IMAGE_DIR=/var/tmp/thinkiosk-image/out OUT_DIR=$WORK_ROOT/out

while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCHES+=("${2:-}"); shift 2 ;;
    --image-dir) IMAGE_DIR=${2:-}; shift 2 ;;
    --out) OUT_DIR=${2:-}; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ ${#ARCHES[@]} -gt 0 ] || ARCHES=(amd64 arm64)
for arch in "${ARCHES[@]}"; do case "$arch" in amd64|arm64) ;; *) die "--arch must be amd64 or arm64 (got '$arch')" ;; esac; done
VERSION=$(node -p "require('$REPO_DIR/package.json').version" 2>/dev/null || echo 0.0.0)

check_host() {
  [ "$(id -u)" = 0 ] || die "run as root (the root file systems hold root-owned files): sudo make netboot"
  need_tool fuse2fs fuse2fs; need_tool mksquashfs squashfs-tools; need_tool mcopy mtools; need_tool sfdisk fdisk
  need_tool cpio cpio; need_tool zstd zstd; need_tool xz xz-utils; need_tool mmdebstrap mmdebstrap; need_tool node nodejs
  [ -e /dev/fuse ] || die "/dev/fuse is missing: the image's root partition is read through FUSE (fuse2fs)"
  mkdir -p "$WORK_ROOT" "$OUT_DIR"
  local arch
  for arch in "${ARCHES[@]}"; do
    [ -f "$(image_file "$arch")" ] || die "no $arch image $(image_file "$arch"): build it first (make image ARCH=$arch, or image/build.sh --arch $arch)"
  done
}

image_file() { echo "$IMAGE_DIR/thinkiosk-$VERSION-$1.img"; }

# Debian packages the netboot files take programs from (not installed anywhere: extracted).
# busybox-static runs the initramfs; ipxe is the first stage for every firmware.
EXTRACT_RECIPE=1  # extract_packages (scripts/build-steps.sh): bump to extract again

# ---- per architecture -------------------------------------------------------------------------

# The image's own checksum stands for its content (hashing the raw image would take minutes).
image_key() { { cat "$(image_file "$1").xz.sha256" 2>/dev/null || stat -c '%s %Y' "$(image_file "$1")"; echo "$SQUASHFS_RECIPE"; } | sha256sum | cut -c1-16; }

MNT=
unmount_root() { [ -n "$MNT" ] && mountpoint -q "$MNT" && umount "$MNT"; MNT=; return 0; }
trap 'unmount_root' EXIT

partition_start_bytes() { # partition_start_bytes IMAGE N
  sfdisk -J "$1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s).partitiontable.partitions['"$2"'-1];console.log(p.start*512)})'
}

mount_image_root() { # the image's root partition (2), read-only
  local img=$1 offset
  offset=$(partition_start_bytes "$img" 2)
  MNT="$WORK_ROOT/mnt-$ARCH"
  mkdir -p "$MNT"; unmount_root; MNT="$WORK_ROOT/mnt-$ARCH"
  fuse2fs -o ro,offset="$offset" "$img" "$MNT" >/dev/null || die "fuse2fs cannot read the root partition of $img"
  [ -d "$MNT/usr/lib/systemd" ] || die "the root partition of $img does not look like a thinkiosk root (no /usr/lib/systemd)"
}

# zstd: quick to unpack for slow (and emulated) clients; the image's ACLs are dropped (none are needed).
SQUASHFS_RECIPE="zstd-12"
build_squashfs() { # build_squashfs FILE
  local file=$1
  # Without the slot's kernel and initramfs: a netbooted client gets its own from the boot server.
  nice -n 10 mksquashfs "$MNT" "$file" -noappend -comp zstd -Xcompression-level 12 -e boot/vmlinuz boot/initrd.img boot/bootargs.env \
    -quiet -no-progress 2>&1 | grep -v 'Unrecognised xattr prefix' || true
  [ -s "$file" ] || die "mksquashfs produced nothing"
  log "   root.squashfs: $(( $(stat -c %s "$file") / 1048576 )) MiB (from $(du -sm "$MNT" | cut -f1) MiB)"
}

copy_kernel() {
  cp "$MNT/boot/vmlinuz" "$STAGE/http/$ARCH/vmlinuz" || die "no /boot/vmlinuz in slot A of $IMG (image/ab-slots.md)"
  KVER=$(ls "$MNT/usr/lib/modules" | head -1)
  [ -n "$KVER" ] || die "no kernel modules in the image's root"
  log "   kernel $KVER"
}

build_initramfs() {
  local tree="$WORK_ROOT/initramfs-$ARCH" busybox_root
  busybox_root=$(extract_packages "$ARCH" busybox-static)
  rm -rf "$tree"; mkdir -p "$tree"/{bin,sbin,etc,lib/modules,dev,proc,sys,run,tmp,newroot,media/root-ro,media/root-rw}
  cp "$busybox_root/usr/bin/busybox" "$tree/bin/busybox"
  ln -s busybox "$tree/bin/sh"   # /init's interpreter; /init links the other applets itself
  cp "$PXE_DIR/initramfs/init" "$tree/init"
  cp "$PXE_DIR/initramfs/udhcpc.script" "$tree/etc/udhcpc.script"
  # The root this initramfs accepts (checked as it downloads): a root from another build, or one
  # altered on the way, is refused with the error screen instead of being booted.
  sha256sum "$STAGE/http/$ARCH/root.squashfs" | cut -c1-64 >"$tree/etc/root.sha256"
  chmod 0755 "$tree/init" "$tree/etc/udhcpc.script" "$tree/bin/busybox"
  cp -a "$PXE_DIR/client-overlay" "$tree/client-overlay"
  local missing
  missing=$(initramfs_modules "$MNT/usr/lib/modules/$KVER" "$PXE_DIR/initramfs/modules-$ARCH.list" "$tree")
  [ -z "$missing" ] || log "   not in this kernel (built in or absent): $missing"
  initramfs_pack "$tree" "$STAGE/http/$ARCH/initrd.img"
  log "   initrd.img: $(( $(stat -c %s "$STAGE/http/$ARCH/initrd.img") / 1024 )) KiB, $(wc -l <"$tree/lib/modules/load-order") modules, busybox $(package_version "$busybox_root" busybox-static)"
  rm -rf "$tree"
}

# Raspberry Pi: the image's boot partition (firmware, device trees, config.txt) with the kernel and
# the netboot initramfs. A netbooted Pi has no slots: its firmware starts the kernel itself, so
# config.txt names the kernel instead of U-Boot. cmdline.txt is written by the boot server (it names
# the server's address).
build_pi_files() {
  local rpi="$STAGE/tftp/rpi"
  mkdir -p "$rpi"
  mcopy -s -n -i "$IMG@@4M" '::/*' "$rpi/" || die "cannot read the boot partition of $IMG"
  rm -f "$rpi/cmdline.txt" "$rpi/thinkiosk.conf" "$rpi/thinkiosk.conf.example" "$rpi/u-boot.bin" "$rpi/boot.scr" "$rpi/tk-slot.txt" "$rpi/tk-tried.txt"
  grep -q '^kernel=u-boot.bin$' "$rpi/config.txt" || die "the arm64 image's config.txt does not start U-Boot (kernel=u-boot.bin): pxe/build-netboot.sh cannot make its netboot variant"
  sed -i -e 's/^kernel=u-boot.bin$/kernel=vmlinuz\ninitramfs initrd.img followkernel/' \
    -e '/^# The firmware starts Debian.s U-Boot/,/^# cmdline.txt and hands it to U-Boot/c\# Netbooted: the firmware loads the kernel and initramfs from the boot server (TFTP); no slots.' "$rpi/config.txt"
  cp "$STAGE/http/arm64/vmlinuz" "$rpi/vmlinuz"
  cp "$STAGE/http/arm64/initrd.img" "$rpi/initrd.img"
  [ -f "$rpi/start4.elf" ] || die "the arm64 image's boot partition has no start4.elf (Raspberry Pi firmware)"
  log "   Raspberry Pi boot files: $(ls "$rpi" | wc -l) files, $(du -sm "$rpi" | cut -f1) MiB"
}

# The root file system (slow: a minute or more) is cached by the image's checksum; the kernel, the
# initramfs and the Pi files are made again every time (seconds), so pxe/ changes always count.
build_arch() {
  ARCH=$1 IMG=$(image_file "$1")
  local key root_cache
  key=$(image_key "$ARCH"); root_cache="$WORK_ROOT/cache/$ARCH-root-$key"
  STAGE="$WORK_ROOT/stage-$ARCH"
  rm -rf "$STAGE"; mkdir -p "$STAGE/http/$ARCH"
  mount_image_root "$IMG"
  if [ -f "$root_cache/complete" ]; then
    log "   reusing the $ARCH root.squashfs (image unchanged)"
  else
    rm -rf "$WORK_ROOT/cache/$ARCH-root-"*; mkdir -p "$root_cache"
    build_squashfs "$root_cache/root.squashfs"
    touch "$root_cache/complete"
  fi
  ln "$root_cache/root.squashfs" "$STAGE/http/$ARCH/root.squashfs" 2>/dev/null || cp "$root_cache/root.squashfs" "$STAGE/http/$ARCH/root.squashfs"
  copy_kernel
  build_initramfs
  [ "$ARCH" = arm64 ] && build_pi_files
  echo "$KVER" >"$STAGE/kernel-version"
  cp "$IMG.xz.sha256" "$STAGE/image.sha256" 2>/dev/null || echo "unknown  $(basename "$IMG")" >"$STAGE/image.sha256"
  unmount_root
  ARCH_CACHES+=("$STAGE")
}

build_loaders() {
  local ipxe
  ipxe=$(extract_packages amd64 ipxe)
  LOADERS_DIR="$WORK_ROOT/loaders"
  rm -rf "$LOADERS_DIR"; mkdir -p "$LOADERS_DIR"
  cp "$ipxe/usr/lib/ipxe/undionly.kpxe" "$ipxe/usr/lib/ipxe/snponly.efi" "$ipxe/usr/lib/ipxe/ipxe-arm64.efi" "$LOADERS_DIR/"
  IPXE_VERSION=$(package_version "$ipxe" ipxe)
  log "   iPXE $IPXE_VERSION: undionly.kpxe (BIOS), snponly.efi (UEFI x86-64), ipxe-arm64.efi (UEFI ARM64)"
}

assemble() {
  local final="$OUT_DIR/netboot" new="$OUT_DIR/netboot.new" cache arch
  rm -rf "$new"; mkdir -p "$new/tftp" "$new/http"
  cp "$LOADERS_DIR"/* "$new/tftp/"
  for cache in "${ARCH_CACHES[@]}"; do
    # Hard links where the cache is on the same file system (no second copy of each root).
    cp -al "$cache/http/." "$new/http/" 2>/dev/null || cp -a "$cache/http/." "$new/http/"
    [ -d "$cache/tftp" ] && { cp -al "$cache/tftp/." "$new/tftp/" 2>/dev/null || cp -a "$cache/tftp/." "$new/tftp/"; }
  done
  (cd "$new" && find tftp http -type f | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
  {
    echo "# thinkiosk $VERSION netboot files"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "ipxe: $IPXE_VERSION (Debian $SUITE)"
    for cache in "${ARCH_CACHES[@]}"; do
      arch=$(ls "$cache/http")
      echo "$arch-kernel: $(cat "$cache/kernel-version")"
      echo "$arch-image: $(cat "$cache/image.sha256")"
      echo "$arch-root-bytes: $(stat -c %s "$cache/http/$arch/root.squashfs")"
      echo "$arch-initrd-bytes: $(stat -c %s "$cache/http/$arch/initrd.img")"
    done
    echo "app: $(cd "$REPO_DIR" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  } >"$new/manifest.txt"
  rm -rf "$final"; mv "$new" "$final"
  rm -rf "${ARCH_CACHES[@]}"
  NETBOOT_DIR=$final
}

step "check the build machine" check_host
ARCH_CACHES=()
for arch in "${ARCHES[@]}"; do step "netboot files for $arch (from $(basename "$(image_file "$arch")"))" build_arch "$arch"; done
step "first-stage loaders (iPXE)" build_loaders
step "checksums and manifest" assemble
(cd "$NETBOOT_DIR" && sha256sum --quiet -c SHA256SUMS) || die "the checksums do not match what was just written"
log "netboot: $NETBOOT_DIR ($(du -sm "$NETBOOT_DIR" | cut -f1) MiB; kiosks for ${ARCHES[*]}; checksums in SHA256SUMS) in $(( $(date +%s) - BUILD_T0 ))s"
