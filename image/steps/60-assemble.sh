# Step "disk image": three partitions (MBR, which every Pi's boot ROM reads), built as files and
# written into the image without mounting anything (no loop devices: mtools and mkfs.ext4 -d).
#   1  FAT32 TKBOOT  256 MiB at 4 MiB  firmware, kernel, initramfs, thinkiosk.conf  (bootable)
#   2  ext4  TKROOT  the root file system, mounted read-only (no journal: never written)
#   3  ext4  TKDATA  settings; the first boot grows it to the end of the card
# Partitions start on 4 MiB boundaries (SD cards erase in such blocks).

BOOT_MIB=256
DATA_MIB=64
ALIGN_MIB=4

align_up() { echo $(( ($1 + ALIGN_MIB - 1) / ALIGN_MIB * ALIGN_MIB )); }

assemble_disk_image() {
  local parts="$WORK_DIR/parts"
  rm -rf "$parts"; mkdir -p "$parts"
  local need=$(( $(du -sxm "$ROOTFS" | cut -f1) * 2 + 512 ))
  [ "$(free_mib "$WORK_DIR")" -gt "$need" ] || die "not enough free space in $WORK_DIR: $need MiB needed"

  mkfs.vfat -F 32 -n TKBOOT -C "$parts/boot.vfat" $((BOOT_MIB * 1024)) >/dev/null
  mcopy -s -p -i "$parts/boot.vfat" "$BOOTFS"/* ::/

  # Room for the files plus what ext4 itself needs (inode tables, ~6%), and a little slack.
  local used root_mib
  used=$(du -sxm --apparent-size "$ROOTFS" | cut -f1)
  root_mib=$(align_up $(( used * 110 / 100 + 96 )))
  mkfs.ext4 -q -F -L TKROOT -O ^has_journal -m 0 -E root_owner=0:0 -d "$ROOTFS" "$parts/root.ext4" "${root_mib}M" >"$WORK_DIR/mkfs.log" 2>&1 \
    || { cat "$WORK_DIR/mkfs.log" >&2; die "mkfs.ext4 of the root file system failed"; }
  mkdir -p "$parts/data-empty"
  mkfs.ext4 -q -F -L TKDATA -m 0 -J size=4 -E root_owner=0:0 -d "$parts/data-empty" "$parts/data.ext4" "${DATA_MIB}M" >"$WORK_DIR/mkfs.log" 2>&1 \
    || { cat "$WORK_DIR/mkfs.log" >&2; die "mkfs.ext4 of the settings file system failed"; }

  local boot_start=$ALIGN_MIB root_start data_start total
  root_start=$(( boot_start + BOOT_MIB ))
  data_start=$(( root_start + root_mib ))
  total=$(( data_start + DATA_MIB ))
  DISK_IMAGE="$WORK_DIR/disk.img"
  rm -f "$DISK_IMAGE"
  truncate -s "${total}M" "$DISK_IMAGE"
  sfdisk -q "$DISK_IMAGE" <<EOF || die "sfdisk failed"
label: dos
label-id: 0x746b696f
unit: sectors
start=$(( boot_start * 2048 )), size=$(( BOOT_MIB * 2048 )), type=c, bootable
start=$(( root_start * 2048 )), size=$(( root_mib * 2048 )), type=83
start=$(( data_start * 2048 )), size=$(( DATA_MIB * 2048 )), type=83
EOF
  dd if="$parts/boot.vfat" of="$DISK_IMAGE" bs=1M seek="$boot_start" conv=notrunc,sparse status=none
  dd if="$parts/root.ext4" of="$DISK_IMAGE" bs=1M seek="$root_start" conv=notrunc,sparse status=none
  dd if="$parts/data.ext4" of="$DISK_IMAGE" bs=1M seek="$data_start" conv=notrunc,sparse status=none
  # boot.vfat and root.ext4 stay for the step "update bundle" (which removes them); the settings
  # partition is never part of an update.
  rm -f "$parts/data.ext4"; rm -rf "$parts/data-empty"
  PARTS_DIR=$parts
  ROOT_MIB=$root_mib
  log "   disk image: ${total} MiB (boot ${BOOT_MIB}, root ${root_mib}, settings ${DATA_MIB} MiB; $(du -m "$DISK_IMAGE" | cut -f1) MiB written)"
}
