#!/bin/bash
# image/flash.sh — writes a thinkiosk image to an SD card (or USB stick) and verifies it.
#
#   image/flash.sh DEVICE [IMAGE.img.xz]        (make flash DEVICE=/dev/sdX [IMAGE=...])
#
# Refuses anything that is not a whole removable disk (or an SD card slot), anything mounted or
# in use by this system, and a card smaller than the image. Writes with bmaptool (only the blocks
# the image uses, checked against the block map while writing), then reads every written block
# back from the card and checks it against the block map's checksums.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
die() { echo "flash: $*" >&2; exit 1; }
DEVICE=${1:-}
IMAGE=${2:-}
[ -n "$DEVICE" ] || die "which card? usage: make flash DEVICE=/dev/sdX [IMAGE=path/to/thinkiosk-…-arm64.img.xz]"
if [ -z "$IMAGE" ]; then
  IMAGE=$(ls -t /var/tmp/thinkiosk-image/out/thinkiosk-*-arm64.img.xz 2>/dev/null | head -1 || true)
  [ -n "$IMAGE" ] || die "no image given and none built in /var/tmp/thinkiosk-image/out (make image)"
fi
[ -f "$IMAGE" ] || die "$IMAGE does not exist"
BMAP=${IMAGE%.xz}; BMAP=${BMAP%.img}.img.bmap
[ -f "$BMAP" ] || die "the block map $BMAP is missing (it is made next to the image by make image)"
command -v bmaptool >/dev/null || die "bmaptool is missing: apt-get install bmap-tools"
[ "$(id -u)" = 0 ] || die "run as root (writing a disk needs it)"

# --- is this a card we may overwrite? ---
[ -b "$DEVICE" ] || die "$DEVICE is not a block device"
name=$(basename "$(readlink -f "$DEVICE")")
[ "$(lsblk -dno TYPE "/dev/$name")" = disk ] || die "$DEVICE is not a whole disk (give /dev/sdX, not a partition)"
removable=$(cat "/sys/block/$name/removable" 2>/dev/null || echo 0)
transport=$(lsblk -dno TRAN "/dev/$name" | tr -d ' ')
case "$name" in mmcblk*) removable=1 ;; esac  # SD card slots report 0, but are cards
[ "$removable" = 1 ] || [ "$transport" = usb ] || die "$DEVICE is not a removable disk (transport '${transport:-none}'): refusing to overwrite it"
if lsblk -nro MOUNTPOINT "/dev/$name" | grep -q .; then
  die "$DEVICE has mounted partitions ($(lsblk -nro MOUNTPOINT "/dev/$name" | grep . | tr '\n' ' ')): unmount them first"
fi
for holder in / /boot /boot/efi /usr /var /home; do
  src=$(findmnt -nvo SOURCE "$holder" 2>/dev/null || true)
  [ -n "$src" ] && [ -b "$src" ] && [ "$(lsblk -no PKNAME "$src" 2>/dev/null | head -1)" = "$name" ] && die "$DEVICE holds this system's $holder"
done
grep -q "^/dev/$name" /proc/swaps && die "$DEVICE is used as swap"
image_bytes=$(awk -F'[<>]' '/<ImageSize>/ {gsub(/ /, "", $3); print $3}' "$BMAP")
card_bytes=$(blockdev --getsize64 "/dev/$name")
[ "$card_bytes" -ge "$image_bytes" ] || die "$DEVICE holds $((card_bytes / 1000000)) MB, the image needs $((image_bytes / 1000000)) MB"

echo "flash: writing $(basename "$IMAGE") to $DEVICE ($(lsblk -dno MODEL,SIZE "/dev/$name" | xargs))"
t0=$(date +%s)
bmaptool copy --bmap "$BMAP" "$IMAGE" "/dev/$name" || die "writing failed: the card is not usable as it is (write it again)"
sync
blockdev --flushbufs "/dev/$name" 2>/dev/null || true

# --- read back what was written and compare with the block map's checksums ---
echo "flash: verifying (reading the written blocks back from the card)"
block=$(awk -F'[<>]' '/<BlockSize>/ {gsub(/ /, "", $3); print $3}' "$BMAP")
algo=$(sed -n 's/.*<ChecksumType> *\([a-z0-9]*\) *<.*/\1/p' "$BMAP")
bad=0 ranges=0
while read -r sum first last; do
  ranges=$((ranges + 1))
  got=$(dd if="/dev/$name" bs="$block" skip="$first" count=$((last - first + 1)) iflag=direct status=none | "${algo}sum" | cut -d' ' -f1)
  [ "$got" = "$sum" ] || { bad=$((bad + 1)); echo "flash: blocks $first-$last differ on the card" >&2; }
done < <(sed -n 's/.*<Range chksum="\([0-9a-f]*\)"> *\([0-9]*\)-*\([0-9]*\) *<\/Range>.*/\1 \2 \3/p' "$BMAP" | awk '{ if ($3 == "") $3 = $2; print }')
[ "$bad" = 0 ] || die "$bad of $ranges written ranges differ on the card: the card may be failing"
echo "flash: $DEVICE written and verified ($ranges ranges) in $(( $(date +%s) - t0 ))s — put it in the kiosk (thinkiosk.conf on its boot partition presets it)"
