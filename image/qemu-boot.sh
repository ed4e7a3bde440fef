#!/bin/bash
# image/qemu-boot.sh — boots a built thinkiosk disk image in QEMU (TCG; no KVM needed) with the
# image's own kernel, initramfs and kernel command line, read from its boot partition without
# mounting it. The serial console goes to STATE/console.log, the QEMU monitor listens on
# STATE/monitor.sock (screendump), and QEMU replaces this script (kill it = pulled plug).
#
#   image/qemu-boot.sh DISK.img [--arch arm64|amd64] [--state DIR] [--cmdline-extra "..."] [--mem MiB] [--window]
#
# The disk is used as it is and written to: boot a copy to keep the built image pristine.
set -euo pipefail
DISK=${1:?usage: qemu-boot.sh DISK.img [--arch arm64|amd64] [--state DIR] [--cmdline-extra ...]}; shift
ARCH=arm64 STATE= EXTRA= MEM=2048 DISPLAY_OPT=none
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) ARCH=$2; shift 2 ;;
    --state) STATE=$2; shift 2 ;;
    --cmdline-extra) EXTRA=$2; shift 2 ;;
    --mem) MEM=$2; shift 2 ;;
    --window) DISPLAY_OPT=gtk; shift ;;
    *) echo "qemu-boot: unknown argument $1" >&2; exit 2 ;;
  esac
done
STATE=${STATE:-$(mktemp -d /var/tmp/thinkiosk-image/boot.XXXXXX)}
mkdir -p "$STATE"
BOOT="$DISK@@4M"   # the boot partition starts at 4 MiB (image/steps/60-assemble.sh)
for f in vmlinuz initrd.img cmdline.txt; do
  mcopy -n -o -i "$BOOT" "::/$f" "$STATE/$f" || { echo "qemu-boot: no $f on the boot partition of $DISK" >&2; exit 1; }
done
case "$ARCH" in
  arm64) console=ttyAMA0; qemu=(qemu-system-aarch64 -M virt -cpu cortex-a72) ;;
  # no_timer_check: a starved emulated PC can fail the kernel's IO-APIC timer check and panic.
  amd64) console=ttyS0; qemu=(qemu-system-x86_64 -M q35 -cpu max -vga none); EXTRA="no_timer_check $EXTRA" ;;
  *) echo "qemu-boot: --arch must be arm64 or amd64" >&2; exit 2 ;;
esac
# The image's command line with the serial console of QEMU's machine instead of the Pi's.
cmdline="$(tr -s ' \n' ' ' <"$STATE/cmdline.txt" | sed -E 's/(^| )console=[^ ]*//g') console=tty1 console=$console $EXTRA"
rm -f "$STATE/console.log" "$STATE/monitor.sock"
echo "qemu-boot: $ARCH, state $STATE, cmdline: $cmdline"
# restrict=on: the guest reaches no network beyond QEMU's own DHCP (tests stay on this machine).
exec "${qemu[@]}" -smp 2 -m "$MEM" -accel tcg,thread=multi \
  -kernel "$STATE/vmlinuz" -initrd "$STATE/initrd.img" -append "$cmdline" \
  -drive if=none,file="$DISK",format=raw,id=hd0,cache=writeback -device virtio-blk-pci,drive=hd0 \
  -device virtio-gpu-pci,xres=1280,yres=800 -display "$DISPLAY_OPT" \
  -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0 \
  -device virtio-rng-pci \
  -monitor unix:"$STATE/monitor.sock",server,nowait \
  -serial file:"$STATE/console.log" -no-reboot
