#!/bin/bash
# install-deps.sh — every Debian package thinkiosk's tests, demo and benchmarks need, on a fresh
# Debian 12 machine (run as root; idempotent: installs only what is missing).
#   scripts/install-deps.sh            everything
#   scripts/install-deps.sh image      only what building and flashing the appliance image needs
#   scripts/install-deps.sh pxe        the image's tools plus the boot server's (make netboot)
#   scripts/install-deps.sh demo       only what `make demo` needs (its three desktops, the kiosk)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
CLOUD="mariadb-server python3-pymysql rabbitmq-server keystone python3-keystone python3-keystoneclient
 placement-api glance-api nova-api nova-conductor nova-scheduler nova-compute nova-compute-kvm nova-consoleproxy
 neutron-server neutron-linuxbridge-agent uwsgi-plugin-python3 sudo"
TOOLS="bc curl cpio iproute2 openssl ca-certificates build-essential python3"
# The kiosk's real peers and clients: local desktops (Xvnc, QEMU SPICE, xrdp / freerdp-shadow),
# native viewers (xfreerdp, remote-viewer) under Xvfb, Debian's Chromium driven by playwright-core,
# screenshots (imagemagick, x11-utils), a CJK font so the Chinese UI renders; the admin screen's
# system tools (xrandr, wlr-randr, nmcli, wpctl/pactl) and a PipeWire to test audio against.
KIOSK="tigervnc-standalone-server tigervnc-tools x11vnc xvfb x11-utils xdotool imagemagick freerdp2-x11
 freerdp2-shadow-x11 xrdp virt-viewer qemu-system-x86 qemu-utils chromium fonts-wqy-microhei
 x11-xserver-utils wlr-randr cage xwayland network-manager pipewire-bin pipewire-pulse wireplumber pulseaudio-utils"
# The appliance image (make image, test/image): mmdebstrap of Debian trixie for arm64 (run through
# qemu-user) and amd64, filesystems without loop mounts (mtools, mkfs.ext4 -d), bmap + xz outputs,
# node-pty cross-built for arm64, and QEMU (TCG) to boot what was built; tesseract reads the screen.
IMAGE="mmdebstrap qemu-user-static binfmt-support arch-test eatmydata mtools dosfstools e2fsprogs fdisk u-boot-tools device-tree-compiler ovmf
 bmap-tools xz-utils zstd cpio kmod qemu-system-arm qemu-system-x86 g++-aarch64-linux-gnu tesseract-ocr tesseract-ocr-eng"
# The boot server and its tests (make netboot, test/pxe; with the image's tools): dnsmasq (DHCP and
# TFTP, the binary the image carries), squashfs roots read from the built image through fuse2fs (no
# loop mounts), OVMF for the UEFI clients, QEMU's iPXE option ROMs for the BIOS ones.
PXE="dnsmasq-base squashfs-tools fuse2fs ovmf ipxe-qemu"
# make demo: the three local desktops (Xvnc, QEMU SPICE, freerdp-shadow on Xvfb, painted by
# ImageMagick), the native viewers (xfreerdp, remote-viewer), Chromium with a CJK font, and the
# virtual display a headless machine shows the kiosk on (Xvfb, x11vnc, a screenshot with import).
DEMO="curl openssl ca-certificates tigervnc-standalone-server tigervnc-tools xvfb x11vnc imagemagick
 qemu-system-x86 freerdp2-shadow-x11 freerdp2-x11 virt-viewer chromium fonts-wqy-microhei"
# The fleet (controller/fleet): PostgreSQL for controllers that share one fleet (the tests start
# their own cluster with initdb), Prometheus to scrape the controller's fleet series.
FLEET="postgresql prometheus"
PKGS="$CLOUD $TOOLS $KIOSK $IMAGE $PXE $FLEET"
[ "${1:-}" = demo ] && PKGS="$DEMO"
[ "${1:-}" = image ] && PKGS="$TOOLS $IMAGE"
[ "${1:-}" = pxe ] && PKGS="$TOOLS $IMAGE $PXE"
[ "$(id -u)" = 0 ] || { echo "install-deps: run as root (apt-get needs it)" >&2; exit 1; }
missing=$(for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"; done)
if [ -z "$missing" ]; then echo "install-deps: all Debian packages present"; exit 0; fi
echo "install-deps: installing $(echo $missing | wc -w) packages: $(echo $missing)"
# The OpenStack packages must not start their services during install: no systemd here, and
# scripts/test-cloud/up.sh starts each daemon itself with its own configuration.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; fi
trap '[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
t0=$(date +%s)
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || { echo "install-deps: apt-get update failed: is Debian's mirror reachable?" >&2; exit 1; }
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing >/tmp/thinkiosk-apt.log 2>&1 \
  || { tail -20 /tmp/thinkiosk-apt.log >&2; echo "install-deps: apt-get install failed (full log /tmp/thinkiosk-apt.log)" >&2; exit 1; }
echo "install-deps: done in $(( $(date +%s) - t0 ))s"
