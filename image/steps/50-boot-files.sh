# Step "boot files": the kernel and initramfs go into the root's own /boot (each A/B slot carries its
# own, image/ab-slots.md); partition 1 gets what starts a slot and the site's files.
#   Raspberry Pi (arm64): the Pi firmware from Debian's raspi-firmware, Debian's device trees for the
#     Pi models, Debian's U-Boot for the Pi (u-boot-rpi), the slot chooser as boot.scr, and
#     config.txt / cmdline.txt from boot/ (the firmware starts U-Boot and hands it cmdline.txt).
#   PC (amd64, UEFI): Debian's signed GRUB as the removable-media loader /EFI/BOOT/BOOTX64.EFI, the
#     slot chooser as its grub.cfg, and cmdline.txt (a GRUB environment block: tk_cmdline=...).
#   Both: the slot files tk-slot.txt and tk-tried.txt, and the settings template thinkiosk.conf.example.
# The initramfs is made here, on the build machine (scripts/initramfs.sh): image/initramfs/init, the
# root's busybox and the modules of image/initramfs/modules-<arch>.list. The boot loaders come
# from Debian trixie's packages, unpacked (extract_packages), never installed into the root.

# Debian's packages the boot loaders come from (u-boot-qemu: the same U-Boot for QEMU's virt machine,
# which image/qemu-boot.sh starts in place of the Pi firmware).
boot_loader_packages() { [ "$ARCH" = arm64 ] && echo "u-boot-rpi u-boot-qemu" || echo grub-efi-amd64-signed; }

assemble_boot_files() {
  BOOTFS="$WORK_DIR/bootfs"
  rm -rf "$BOOTFS"; mkdir -p "$BOOTFS"
  local kver
  kver=$(ls "$ROOTFS/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
  [ -n "$kver" ] || die "no kernel in the root file system"
  KERNEL_VERSION=$kver
  # The slot's own: kernel, initramfs and the kernel parameters that belong to this build.
  mv "$ROOTFS/boot/vmlinuz-$kver" "$ROOTFS/boot/vmlinuz"
  rm -f "$ROOTFS/boot/System.map-$kver" "$ROOTFS/boot/config-$kver"
  build_initramfs "$kver" "$ROOTFS/boot/initrd.img"
  write_env_block "$ROOTFS/boot/bootargs.env" "tk_bootargs=$(slot_bootargs)"
  local loaders
  loaders=$(extract_packages "$ARCH" "$(boot_loader_packages)")
  if [ "$ARCH" = arm64 ]; then
    [ -d "$ROOTFS/usr/lib/raspi-firmware" ] || die "raspi-firmware is not installed in the root file system"
    # The firmware the Pi's boot ROM starts: not the camera (start_x), debug (start_db) or
    # cut-down (start_cd, gpu_mem=16) variants, which config.txt would have to ask for (13 MB).
    tar -C "$ROOTFS/usr/lib/raspi-firmware" --exclude='start*x.elf' --exclude='start*db.elf' --exclude='start*cd.elf' \
      --exclude='fixup*x.dat' --exclude='fixup*db.dat' --exclude='fixup*cd.dat' -cf - . | tar -C "$BOOTFS" -xf -
    [ -f "$BOOTFS/start4.elf" ] && [ -f "$BOOTFS/start.elf" ] || die "raspi-firmware has no start.elf/start4.elf"
    local dtbs="$ROOTFS/usr/lib/linux-image-$kver/broadcom"
    cp "$dtbs"/bcm2*-rpi-*.dtb "$BOOTFS/" 2>/dev/null || die "no Raspberry Pi device trees in $dtbs"
    cp "$loaders/usr/lib/u-boot/rpi_arm64/u-boot.bin" "$BOOTFS/u-boot.bin" || die "u-boot-rpi has no rpi_arm64/u-boot.bin"
    mkimage -A arm64 -T script -C none -n "thinkiosk slot chooser" -d "$REPO_DIR/boot/slot-chooser-uboot.cmd" "$BOOTFS/boot.scr" >/dev/null \
      || die "mkimage could not make boot.scr from boot/slot-chooser-uboot.cmd"
    cp "$REPO_DIR/boot/config.txt" "$REPO_DIR/boot/cmdline.txt" "$BOOTFS/"
    log "   boot loader: U-Boot $(package_version "$loaders" u-boot-rpi) (u-boot-rpi, rpi_arm64)"
  else
    mkdir -p "$BOOTFS/EFI/BOOT"
    cp "$loaders/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$BOOTFS/EFI/BOOT/BOOTX64.EFI" || die "grub-efi-amd64-signed has no grubx64.efi.signed"
    cp "$REPO_DIR/boot/slot-chooser-grub.cfg" "$BOOTFS/EFI/BOOT/grub.cfg"
    write_env_block "$BOOTFS/cmdline.txt" "tk_cmdline=$(grep -v '^#' "$REPO_DIR/boot/cmdline-amd64.txt" | tr -s ' \n' ' ' | sed 's/ $//')"
    log "   boot loader: GRUB $(package_version "$loaders" grub-efi-amd64-signed) (grub-efi-amd64-signed, removable-media path)"
  fi
  write_env_block "$BOOTFS/tk-slot.txt" tk_slot=a tk_trial= tk_trial_id=
  write_env_block "$BOOTFS/tk-tried.txt" tk_tried=
  cp "$REPO_DIR/boot/thinkiosk.conf.example" "$BOOTFS/"
  # The read-only root needs no second copy of the Pi firmware or of the device trees of every
  # arm64 board (partition 1 has the Pi's).
  rm -rf "$ROOTFS/usr/lib/linux-image-$kver" "$ROOTFS/usr/lib/raspi-firmware"
  log "   boot partition: $(find "$BOOTFS" -type f | wc -l) files, $(du -sh "$BOOTFS" | cut -f1); slot /boot: $(du -sh "$ROOTFS/boot" | cut -f1) (kernel $kver)"
}

# The kernel parameters a slot's build owns (boot/slot-bootargs.txt, comments dropped); the site's
# own (consoles) are in partition 1's cmdline.txt, and the boot loader adds root= and thinkiosk.slot=.
slot_bootargs() { grep -v '^\s*#' "$REPO_DIR/boot/slot-bootargs.txt" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//'; }

# write_env_block FILE NAME=VALUE...: a GRUB environment block (exactly 1024 bytes: the header line,
# the lines, '#' padding), the format both boot loaders read (image/ab-slots.md).
write_env_block() {
  local file=$1 size; shift
  { printf '# GRUB Environment Block\n'; printf '%s\n' "$@"; } >"$file"
  size=$(stat -c %s "$file")
  [ "$size" -le 1024 ] || die "$file would be $size bytes: a GRUB environment block holds 1024"
  head -c $(( 1024 - size )) /dev/zero | tr '\0' '#' >>"$file"
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
