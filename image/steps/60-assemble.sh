# Step "disk image": four partitions (image/ab-slots.md), built as files and written into the image
# without mounting anything (no loop devices: mtools and mkfs.ext4 -d).
#   1  FAT32 TKBOOT    256 MiB at 4 MiB  boot loader, slot files, cmdline.txt, thinkiosk.conf
#   2  ext4  TKROOT-A  slot A: the root file system with its kernel, mounted read-only (no journal)
#   3  ext4  TKROOT-B  slot B, as large as A; empty (zeros) until the first update writes it
#   4  ext4  TKDATA    settings; the first boot grows it to the end of the card
# Raspberry Pi (arm64): MBR, which every Pi's boot ROM reads, partition 1 bootable. PC (amd64): GPT,
# partition 1 an EFI system partition. Partitions start on 4 MiB boundaries (SD cards erase in such
# blocks). The slots have a fixed size (THINKIOSK_SLOT_MIB, 2048 by default) so later, larger
# roots still fit in the slot an update writes; the image file is sparse and slot B costs nothing
# in the .img.xz.

BOOT_MIB=256
DATA_MIB=64
ALIGN_MIB=4
SLOT_MIB=${THINKIOSK_SLOT_MIB:-2048}

align_up() { echo $(( ($1 + ALIGN_MIB - 1) / ALIGN_MIB * ALIGN_MIB )); }

assemble_disk_image() {
  local parts="$WORK_DIR/parts"
  mark_root_updated  # image/steps/40-configure.sh: the root is final from here on
  rm -rf "$parts"; mkdir -p "$parts"
  local need=$(( $(du -sxm "$ROOTFS" | cut -f1) * 2 + 512 ))
  [ "$(free_mib "$WORK_DIR")" -gt "$need" ] || die "not enough free space in $WORK_DIR: $need MiB needed"

  mkfs.vfat -F 32 -n TKBOOT -C "$parts/boot.vfat" $((BOOT_MIB * 1024)) >/dev/null
  mcopy -s -p -i "$parts/boot.vfat" "$BOOTFS"/* ::/

  # Room for the files plus what ext4 itself needs (inode tables, ~6%), and a little slack.
  local used root_mib
  used=$(du -sxm --apparent-size "$ROOTFS" | cut -f1)
  root_mib=$(align_up $(( used * 110 / 100 + 96 )))
  [ "$root_mib" -le "$SLOT_MIB" ] || die "the root file system needs $root_mib MiB, more than a slot's $SLOT_MIB MiB (THINKIOSK_SLOT_MIB); kiosks flashed with smaller slots could not take this image as an update"
  mkfs.ext4 -q -F -L TKROOT-A -O ^has_journal -m 0 -E root_owner=0:0 -d "$ROOTFS" "$parts/root.ext4" "${root_mib}M" >"$WORK_DIR/mkfs.log" 2>&1 \
    || { cat "$WORK_DIR/mkfs.log" >&2; die "mkfs.ext4 of the root file system failed"; }
  mkdir -p "$parts/data-empty"
  mkfs.ext4 -q -F -L TKDATA -m 0 -J size=4 -E root_owner=0:0 -d "$parts/data-empty" "$parts/data.ext4" "${DATA_MIB}M" >"$WORK_DIR/mkfs.log" 2>&1 \
    || { cat "$WORK_DIR/mkfs.log" >&2; die "mkfs.ext4 of the settings file system failed"; }

  local boot_start=$ALIGN_MIB a_start b_start data_start total
  a_start=$(( boot_start + BOOT_MIB ))
  b_start=$(( a_start + SLOT_MIB ))
  data_start=$(( b_start + SLOT_MIB ))
  total=$(( data_start + DATA_MIB + 1 ))  # + the GPT's backup copy at the end (amd64)
  DISK_IMAGE="$WORK_DIR/disk.img"
  rm -f "$DISK_IMAGE"
  truncate -s "${total}M" "$DISK_IMAGE"
  if [ "$ARCH" = arm64 ]; then
    sfdisk -q "$DISK_IMAGE" <<EOT || die "sfdisk failed"
label: dos
label-id: 0x746b696f
unit: sectors
start=$(( boot_start * 2048 )), size=$(( BOOT_MIB * 2048 )), type=c, bootable
start=$(( a_start * 2048 )), size=$(( SLOT_MIB * 2048 )), type=83
start=$(( b_start * 2048 )), size=$(( SLOT_MIB * 2048 )), type=83
start=$(( data_start * 2048 )), size=$(( DATA_MIB * 2048 )), type=83
EOT
  else
    sfdisk -q "$DISK_IMAGE" <<EOT || die "sfdisk failed"
label: gpt
unit: sectors
start=$(( boot_start * 2048 )), size=$(( BOOT_MIB * 2048 )), type=uefi, name=TKBOOT
start=$(( a_start * 2048 )), size=$(( SLOT_MIB * 2048 )), type=linux, name=TKROOT-A
start=$(( b_start * 2048 )), size=$(( SLOT_MIB * 2048 )), type=linux, name=TKROOT-B
start=$(( data_start * 2048 )), size=$(( DATA_MIB * 2048 )), type=linux, name=TKDATA
EOT
  fi
  dd if="$parts/boot.vfat" of="$DISK_IMAGE" bs=1M seek="$boot_start" conv=notrunc,sparse status=none
  dd if="$parts/root.ext4" of="$DISK_IMAGE" bs=1M seek="$a_start" conv=notrunc,sparse status=none
  dd if="$parts/data.ext4" of="$DISK_IMAGE" bs=1M seek="$data_start" conv=notrunc,sparse status=none
  # root.ext4 stays for the step "update bundle" (which removes it); the boot partition and the
  # settings are never part of an update.
  rm -f "$parts/data.ext4" "$parts/boot.vfat"; rm -rf "$parts/data-empty"
  PARTS_DIR=$parts
  ROOT_MIB=$root_mib
  log "   disk image: ${total} MiB (boot ${BOOT_MIB}, slots A and B ${SLOT_MIB} each with a ${root_mib} MiB root in A, settings ${DATA_MIB} MiB; $(du -m "$DISK_IMAGE" | cut -f1) MiB written)"
}
