# Step "boot files": what goes on the FAT boot partition. Raspberry Pi (arm64): the Pi firmware from
# Debian's raspi-firmware, Debian's device trees for the Pi models, the kernel and initramfs under
# fixed names, and config.txt / cmdline.txt from boot/. PC (amd64): kernel, initramfs and the
# command line (the netboot server and the QEMU test start the kernel directly). Both: the
# settings file template thinkiosk.conf.example. The initramfs is made here, on the build machine
# (scripts/initramfs.sh): image/initramfs/init, the root's busybox and the modules of
# image/initramfs/modules-<arch>.list.

assemble_boot_files() {
  BOOTFS="$WORK_DIR/bootfs"
  rm -rf "$BOOTFS"; mkdir -p "$BOOTFS"
  local kver
  kver=$(ls "$ROOTFS/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
  [ -n "$kver" ] || die "no kernel in the root file system"
  KERNEL_VERSION=$kver
  cp "$ROOTFS/boot/vmlinuz-$kver" "$BOOTFS/vmlinuz"
  build_initramfs "$kver" "$BOOTFS/initrd.img"
  if [ "$ARCH" = arm64 ]; then
    [ -d "$ROOTFS/usr/lib/raspi-firmware" ] || die "raspi-firmware is not installed in the root file system"
    # The firmware the Pi's boot ROM starts: not the camera (start_x), debug (start_db) or
    # cut-down (start_cd, gpu_mem=16) variants, which config.txt would have to ask for (13 MB).
    tar -C "$ROOTFS/usr/lib/raspi-firmware" --exclude='start*x.elf' --exclude='start*db.elf' --exclude='start*cd.elf' \
      --exclude='fixup*x.dat' --exclude='fixup*db.dat' --exclude='fixup*cd.dat' -cf - . | tar -C "$BOOTFS" -xf -
    [ -f "$BOOTFS/start4.elf" ] && [ -f "$BOOTFS/start.elf" ] || die "raspi-firmware has no start.elf/start4.elf"
    local dtbs="$ROOTFS/usr/lib/linux-image-$kver/broadcom"
    cp "$dtbs"/bcm2*-rpi-*.dtb "$BOOTFS/" 2>/dev/null || die "no Raspberry Pi device trees in $dtbs"
    cp "$REPO_DIR/boot/config.txt" "$REPO_DIR/boot/cmdline.txt" "$BOOTFS/"
  else
    cp "$REPO_DIR/boot/cmdline-amd64.txt" "$BOOTFS/cmdline.txt"
  fi
  cp "$REPO_DIR/boot/thinkiosk.conf.example" "$BOOTFS/"
  # The boot partition is where they are used; the read-only root needs no second copy of the
  # kernel, the initramfs, the Pi firmware or the device trees of every arm64 board.
  rm -f "$ROOTFS/boot/vmlinuz-$kver" "$ROOTFS/boot/System.map-$kver"
  rm -rf "$ROOTFS/usr/lib/linux-image-$kver" "$ROOTFS/usr/lib/raspi-firmware"
  log "   boot partition: $(ls "$BOOTFS" | wc -l) files, $(du -sh "$BOOTFS" | cut -f1) (kernel $kver)"
}

build_initramfs() { # build_initramfs KERNEL_VERSION FILE
  local tree="$WORK_DIR/initramfs" missing
  [ -x "$ROOTFS/usr/bin/busybox" ] || die "busybox-static is not installed in the root file system (image/packages)"
  rm -rf "$tree"; mkdir -p "$tree/bin"
  cp "$ROOTFS/usr/bin/busybox" "$tree/bin/busybox"
  ln -s busybox "$tree/bin/sh"   # /init's interpreter; /init links the other applets itself
  install -m 0755 "$IMAGE_DIR/initramfs/init" "$tree/init"
  missing=$(initramfs_modules "$ROOTFS/usr/lib/modules/$1" "$IMAGE_DIR/initramfs/modules-$ARCH.list" "$tree")
  [ -n "$(cat "$tree/lib/modules/load-order")" ] || die "no kernel module of image/initramfs/modules-$ARCH.list is in the kernel $1"
  initramfs_pack "$tree" "$2"
  log "   initrd.img: $(( $(stat -c %s "$2") / 1024 )) KiB, $(wc -l <"$tree/lib/modules/load-order") modules${missing:+; built in or absent: $missing}"
  rm -rf "$tree"
}
