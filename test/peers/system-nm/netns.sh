#!/bin/sh
# Runs under `unshare --net --mount --uts --fork`: NetworkManager for the nmcli tests, isolated from
# the host. Its network namespace holds only loopback and two veth pairs; what it writes
# (/etc/NetworkManager, /var/lib/NetworkManager, /run/NetworkManager, /etc/resolv.conf) is private
# to this mount namespace; sysfs is mounted afresh so it shows this namespace's devices, read-only,
# which is how NetworkManager knows to manage devices without udev.
#   netns.sh <state dir>      (DBUS_SYSTEM_BUS_ADDRESS names the test's bus)
set -eu
state=$1
here=$(dirname "$0")
mount --make-rprivate /
mkdir -p "$state/etc/system-connections" /etc/NetworkManager /var/lib/NetworkManager /run/NetworkManager
cp "$here/NetworkManager.conf" "$state/etc/NetworkManager.conf"
: > "$state/resolv.conf"
mount --bind "$state/etc" /etc/NetworkManager
mount -t tmpfs tmpfs /var/lib/NetworkManager
mount -t tmpfs tmpfs /run/NetworkManager
mount --bind "$state/resolv.conf" /etc/resolv.conf
mount -t sysfs -o ro sysfs /sys
hostname thinkiosk-nm-test
ip link set lo up
ip link add veth-k0 type veth peer name veth-k1
ip link add eth-k2 type veth peer name eth-k3
exec NetworkManager --no-daemon
