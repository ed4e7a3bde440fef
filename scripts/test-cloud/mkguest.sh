#!/bin/bash
# mkguest.sh DIR — a tiny bootable x86 guest for the test cloud: Debian's kernel plus a busybox
# initramfs whose console shows a known banner (tests look for the guest's screen through VNC).
# Only Debian packages are downloaded. Output: DIR/vmlinuz, DIR/initrd.gz.
set -euo pipefail
G=${1:?usage: mkguest.sh DIR}
rm -rf "$G.tmp"; mkdir -p "$G.tmp/debs" "$G.tmp/x" "$G.tmp/root/bin" "$G.tmp/root/proc" "$G.tmp/root/sys" "$G.tmp/root/dev"
cd "$G.tmp/debs"
K=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
apt-get download "$K" busybox-static
dpkg-deb -x "$K"_*.deb ../x; dpkg-deb -x busybox-static_*.deb ../x
cp ../x/boot/vmlinuz-* ../vmlinuz
cp ../x/bin/busybox ../root/bin/busybox; ln -s busybox ../root/bin/sh
cat >../root/init <<'EOI'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
for c in /dev/ttyS0 /dev/tty1; do
  echo "==============================================" >$c
  echo " THINKIOSK TEST GUEST BOOTED: $(/bin/busybox uname -r)" >$c
  echo "==============================================" >$c
done
exec </dev/tty1 >/dev/tty1 2>&1
while true; do /bin/busybox sh; /bin/busybox sleep 1; done
EOI
chmod +x ../root/init
(cd ../root && find . | cpio -o -H newc --quiet | gzip -1) >../initrd.gz
mkdir -p "$G"; mv ../vmlinuz ../initrd.gz "$G/"; rm -rf "$G.tmp"
ls -la "$G"
