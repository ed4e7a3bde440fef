# Step "boot files": what goes on the FAT boot partition. Raspberry Pi (arm64): the Pi firmware from
# Debian's raspi-firmware, Debian's device trees for the Pi models, the kernel and initramfs under
# fixed names, and config.txt / cmdline.txt from boot/. PC (amd64): kernel, initramfs and the
# command line (the netboot server and the QEMU test start the kernel directly). Both: the
# settings file template thinkiosk.conf.example.

assemble_boot_files() {
  BOOTFS="$WORK_DIR/bootfs"
  rm -rf "$BOOTFS"; mkdir -p "$BOOTFS"
  local kver
  kver=$(ls "$ROOTFS/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
  [ -n "$kver" ] || die "no kernel in the root file system"
  KERNEL_VERSION=$kver
  cp "$ROOTFS/boot/vmlinuz-$kver" "$BOOTFS/vmlinuz"
  cp "$ROOTFS/boot/initrd.img-$kver" "$BOOTFS/initrd.img"
  if [ "$ARCH" = arm64 ]; then
    [ -d "$ROOTFS/usr/lib/raspi-firmware" ] || die "raspi-firmware is not installed in the root file system"
    cp -r "$ROOTFS/usr/lib/raspi-firmware/." "$BOOTFS/"
    local dtbs="$ROOTFS/usr/lib/linux-image-$kver/broadcom"
    cp "$dtbs"/bcm2*-rpi-*.dtb "$BOOTFS/" 2>/dev/null || die "no Raspberry Pi device trees in $dtbs"
    cp "$REPO_DIR/boot/config.txt" "$REPO_DIR/boot/cmdline.txt" "$BOOTFS/"
  else
    cp "$REPO_DIR/boot/cmdline-amd64.txt" "$BOOTFS/cmdline.txt"
  fi
  cp "$REPO_DIR/boot/thinkiosk.conf.example" "$BOOTFS/"
  # The boot partition is where they are used; the read-only root needs no second copy of the
  # kernel, the initramfs or the device trees of every arm64 board.
  rm -f "$ROOTFS/boot/vmlinuz-$kver" "$ROOTFS/boot/initrd.img-$kver" "$ROOTFS/boot/System.map-$kver"
  rm -rf "$ROOTFS/usr/lib/linux-image-$kver"
  log "   boot partition: $(ls "$BOOTFS" | wc -l) files, $(du -sh "$BOOTFS" | cut -f1) (kernel $kver)"
}
