#!/bin/bash
# image/qemu-boot.sh — boots a built thinkiosk disk image in QEMU (TCG; no KVM needed) the way the
# hardware does: through the image's own boot loader and slot chooser (image/ab-slots.md).
#   amd64: UEFI firmware (OVMF) → the image's GRUB (/EFI/BOOT/BOOTX64.EFI) → the chosen slot.
#   arm64: a stand-in for the Raspberry Pi firmware → Debian's U-Boot → boot.scr → the chosen slot.
#     The Pi firmware's part that matters here is: start U-Boot, and hand it cmdline.txt of
#     partition 1 as the device tree's /chosen/bootargs. The stand-in does exactly that: QEMU's
#     virt machine runs U-Boot's qemu_arm64 build (same source and version as the Pi's rpi_arm64,
#     Debian's u-boot-qemu) as its firmware, with QEMU's own device tree plus those bootargs.
# The serial console goes to STATE/console.log, the QEMU monitor listens on STATE/monitor.sock
# (screendump), and QEMU replaces this script (kill it = pulled plug). A reboot ends QEMU
# (-no-reboot): boot the same disk again with the same STATE to continue (UEFI variables persist).
#
#   image/qemu-boot.sh DISK.img [--arch arm64|amd64] [--state DIR] [--cmdline-extra "..."] [--mem MiB] [--window]
#                      [--serve PORT]...   (the guest reaches 127.0.0.1:PORT of this machine at 10.0.2.100:PORT)
#
# The disk is used as it is and written to (amd64: its cmdline.txt gets QEMU's serial console and
# the extra words): boot a copy to keep the built image pristine.
set -euo pipefail
DISK=${1:?usage: qemu-boot.sh DISK.img [--arch arm64|amd64] [--state DIR] [--cmdline-extra ...]}; shift
ARCH=arm64 STATE= EXTRA= MEM=2048 DISPLAY_OPT=none
NETDEV=user,id=n0,restrict=on
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCH=$2; shift 2 ;;
    --state) STATE=$2; shift 2 ;;
    --cmdline-extra) EXTRA=$2; shift 2 ;;
    --mem) MEM=$2; shift 2 ;;
    --window) DISPLAY_OPT=gtk; shift ;;
    --serve) NETDEV="$NETDEV,guestfwd=tcp:10.0.2.100:$2-tcp:127.0.0.1:$2"; shift 2 ;;
    *) echo "qemu-boot: unknown argument $1" >&2; exit 2 ;;
  esac
done
BUILD_NAME=qemu-boot
source "$(dirname "$0")/../scripts/build-steps.sh"
WORK_ROOT=${THINKIOSK_IMAGE_WORK:-/var/tmp/thinkiosk-image}
SUITE=trixie MIRROR=${THINKIOSK_MIRROR:-http://deb.debian.org/debian}
STATE=${STATE:-$(mktemp -d "$WORK_ROOT/boot.XXXXXX")}
mkdir -p "$STATE"
BOOT="$DISK@@4M"   # partition 1 starts at 4 MiB (image/steps/60-assemble.sh)

# The site's kernel parameters of partition 1 with QEMU's serial console instead of the hardware's.
site_cmdline() { # site_cmdline TEXT CONSOLE
  echo "$(echo "$1" | tr -s ' \n' ' ' | sed -E 's/(^| )console=[^ ]*//g') console=tty1 console=$2 $EXTRA" | sed -E 's/ +/ /g; s/^ //; s/ $//'
}

common=(-smp 2 -m "$MEM" -accel tcg,thread=multi
  -drive if=none,file="$DISK",format=raw,id=hd0,cache=writeback -device virtio-blk-pci,drive=hd0,bootindex=0
  -device virtio-gpu-pci,xres=1280,yres=800 -display "$DISPLAY_OPT"
  -netdev "$NETDEV" -device virtio-net-pci,netdev=n0
  -device virtio-rng-pci -no-reboot)
case "$ARCH" in
  arm64)
    uboot="$(extract_packages arm64 u-boot-qemu)/usr/lib/u-boot/qemu_arm64/u-boot.bin"
    [ -f "$uboot" ] || { echo "qemu-boot: no U-Boot for QEMU ($uboot)" >&2; exit 1; }
    mcopy -n -o -i "$BOOT" ::/cmdline.txt "$STATE/cmdline.txt" || { echo "qemu-boot: no cmdline.txt on partition 1 of $DISK" >&2; exit 1; }
    cmdline=$(site_cmdline "$(cat "$STATE/cmdline.txt")" ttyAMA0)
    qemu=(qemu-system-aarch64 -M virt -cpu cortex-a72 -bios "$uboot" "${common[@]}")
    # The Pi firmware stand-in's device tree: QEMU's own for exactly this machine, plus bootargs.
    rm -f "$STATE/firmware.dtb"
    "${qemu[@]}" -machine dumpdtb="$STATE/firmware.dtb" >/dev/null 2>&1 || true
    [ -s "$STATE/firmware.dtb" ] || { echo "qemu-boot: QEMU did not write its device tree" >&2; exit 1; }
    fdtput -t s "$STATE/firmware.dtb" /chosen bootargs "$cmdline"
    qemu+=(-dtb "$STATE/firmware.dtb")
    ;;
  amd64)
    # no_timer_check: a starved emulated PC can fail the kernel's IO-APIC timer check and panic.
    EXTRA="no_timer_check $EXTRA"
    mcopy -n -o -i "$BOOT" ::/cmdline.txt "$STATE/cmdline.env" || { echo "qemu-boot: no cmdline.txt on partition 1 of $DISK" >&2; exit 1; }
    cmdline=$(site_cmdline "$(sed -n 's/^tk_cmdline=//p' "$STATE/cmdline.env")" ttyS0)
    { printf '# GRUB Environment Block\n'; printf 'tk_cmdline=%s\n' "$cmdline"; } >"$STATE/cmdline.txt"
    [ "$(stat -c %s "$STATE/cmdline.txt")" -le 1024 ] || { echo "qemu-boot: the command line is too long for GRUB's 1024-byte block" >&2; exit 1; }
    head -c $(( 1024 - $(stat -c %s "$STATE/cmdline.txt") )) /dev/zero | tr '\0' '#' >>"$STATE/cmdline.txt"
    mcopy -o -i "$BOOT" "$STATE/cmdline.txt" ::/cmdline.txt
    ovmf=/usr/share/OVMF
    [ -f "$ovmf/OVMF_CODE_4M.fd" ] || { echo "qemu-boot: no UEFI firmware for QEMU: install ovmf (scripts/install-deps.sh)" >&2; exit 1; }
    [ -f "$STATE/OVMF_VARS.fd" ] || cp "$ovmf/OVMF_VARS_4M.fd" "$STATE/OVMF_VARS.fd"
    qemu=(qemu-system-x86_64 -M q35 -cpu max -vga none
      -drive if=pflash,format=raw,readonly=on,file="$ovmf/OVMF_CODE_4M.fd" -drive if=pflash,format=raw,file="$STATE/OVMF_VARS.fd"
      "${common[@]}")
    ;;
  *) echo "qemu-boot: --arch must be arm64 or amd64" >&2; exit 2 ;;
esac
rm -f "$STATE/console.log" "$STATE/monitor.sock"
echo "qemu-boot: $ARCH, state $STATE, site cmdline: $cmdline"
# restrict=on: the guest reaches no network beyond QEMU's own DHCP and the ports named by --serve
# (tests stay on this machine).
exec "${qemu[@]}" -monitor unix:"$STATE/monitor.sock",server,nowait -serial file:"$STATE/console.log"
