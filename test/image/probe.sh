#!/bin/sh
# Test probe for a booted thinkiosk image. test/image puts this file on the boot partition of a
# scratch copy of the image and starts it with systemd.run= on the kernel command line (QEMU's
# -append): nothing test-only is built into the image. It waits for the kiosk, then reports what
# the tests check, one "probe: key value" line each, on the serial console.
# thinkiosk.probe=write-loop on the command line: afterwards keep saving the kiosk's settings until
# QEMU is killed (the pulled-plug test).
# Output goes through the journal to the console (the unit's StandardOutput=journal+console): a
# /dev/console held open from early boot is hung up when the serial getty starts.
p() { echo "probe: $*"; }
# (the kiosk runs in its login session, so its lines are not under the unit's name in the journal)
ready() { journalctl -b -o cat 2>/dev/null | grep -q "THINKIOSK-KIOSK-READY page"; }
i=0
until ready || [ $i -ge 450 ]; do sleep 2; i=$((i + 1)); done
echo "===PROBE-BEGIN==="
ready && p "kiosk-ready yes" || p "kiosk-ready no"
p "uname $(uname -m) $(uname -r)"
p "root $(findmnt -no FSTYPE,OPTIONS /)"
p "root-ro $(findmnt -no SOURCE,FSTYPE,OPTIONS /media/root-ro)"
p "data $(findmnt -no SOURCE,FSTYPE,OPTIONS /var/lib/thinkiosk)"
p "boot $(findmnt -no SOURCE,FSTYPE,OPTIONS /boot/firmware)"
if touch /media/root-ro/probe 2>/dev/null; then p "root-ro-writable yes"; else p "root-ro-writable no"; fi
if [ -e /etc/probe-was-here ]; then p "overlay-forgot no"; else p "overlay-forgot yes"; fi
touch /etc/probe-was-here
if touch /boot/firmware/probe 2>/dev/null; then p "boot-writable yes"; rm -f /boot/firmware/probe; else p "boot-writable no"; fi
p "data-size-mib $(( $(findmnt -bno SIZE /var/lib/thinkiosk) / 1048576 ))"
p "data-grown $([ -e /var/lib/thinkiosk/.grown ] && echo yes || echo no)"
p "journal $(journalctl --header 2>/dev/null | sed -n 's/^File path: //p' | head -1)"
p "kiosk-user $(id kiosk 2>&1)"
p "kiosk-processes $(ps -u kiosk -o comm= | sort -u | tr '\n' ' ')"
p "passwords $(awk -F: '$2 !~ /^[!*]/ {print $1}' /etc/shadow | tr '\n' ' ')"
p "ssh $(systemctl is-active ssh.service)"
p "ssh-keys $(grep -c . /root/.ssh/authorized_keys 2>/dev/null || echo 0)"
# Wi-Fi profiles NetworkManager loaded (QEMU has no Wi-Fi card: a profile it refused is not listed).
p "nm-connections $(nmcli -t -f NAME,TYPE connection show 2>&1 | tr '\n' ' ')"
p "cmdline-nocloud $(grep -q 'ds=nocloud;i=' /proc/cmdline && echo yes || echo no)"
p "hostname $(hostname)"
p "timezone $(readlink /etc/localtime)"
p "kiosk-env $(tr '\n' ' ' </run/thinkiosk/kiosk.env 2>/dev/null)"
# The boot partition is root's alone; the kiosk reads its own keys from apply-preset's copy.
p "kiosk-reads-boot $(runuser -u kiosk -- cat /boot/firmware/thinkiosk.conf >/dev/null 2>&1 && echo yes || echo no) $(runuser -u kiosk -- ls /boot/firmware >/dev/null 2>&1 && echo yes || echo no)"
p "kiosk-preset $(stat -c '%a %U:%G' /run/thinkiosk/kiosk-preset.conf 2>/dev/null || echo none)"
p "kiosk-preset-keys $(runuser -u kiosk -- sed -n 's/^[[:space:]]*\([A-Za-z_]*\)[[:space:]]*=.*/\1/p' /run/thinkiosk/kiosk-preset.conf 2>/dev/null | tr '\n' ' ')"
p "network $(nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device 2>&1 | tr '\n' ' ')"
p "resolv $(readlink /etc/resolv.conf) $(sed -n 's/^nameserver //p' /etc/resolv.conf 2>/dev/null | tr '\n' ' ')"
# How this machine's DNS answers (QEMU's user network with restrict=on forwards no query: a DNS
# server that never answers): seconds for one lookup, and its result.
t0=$(date +%s); answer=$(getent ahosts preset.example 2>&1 | head -1); p "dns-lookup $(( $(date +%s) - t0 )) ${answer:-no-answer}"
p "chromium-policies $(cd /etc/chromium/policies/managed 2>/dev/null && sha256sum -- *.json 2>/dev/null | tr '\n' ' ')"
while IFS= read -r line; do p "preset-problem $line"; done </run/thinkiosk/preset-problems.txt
# Under a loaded TCG machine systemctl's call to PID 1 can time out (once, both arm64 boots came back
# with no unit at all): asked again, and each failure is reported, so an empty list is never silent.
units=
for try in 1 2 3; do
  units=$(systemctl list-unit-files --state=enabled --no-legend --type=service 2>/tmp/probe-systemctl.err) && [ -n "$units" ] && break
  p "enabled-retry $try $(tr '\n' ' ' </tmp/probe-systemctl.err)"
done
for u in $(printf '%s\n' "$units" | awk '{print $1}'); do p "enabled $u"; done
p "default-target $(systemctl get-default)"
# The boot server's service runs on every box and waits, switched off, unless a preset turns it on.
# Its Node starts once the kiosk has shown its page (after-kiosk): time to say whether it serves.
if [ "$(systemctl is-enabled thinkiosk-boot-server.service 2>/dev/null)" = enabled ]; then
  for _ in $(seq 90); do [ -s /run/thinkiosk/boot-server/status.json ] && break; sleep 1; done
fi
p "boot-server $(sed -n 's/^  "state": "\(.*\)",$/\1/p' /run/thinkiosk/boot-server/status.json 2>/dev/null | grep . || echo no-status) $(systemctl is-active thinkiosk-boot-server.service)"
# The jobs for a first boot after /usr changed find nothing to do: the build did their work (image/steps/40-configure.sh mark_root_updated).
p "update-jobs $(for unit in ldconfig systemd-sysusers systemd-journal-catalog-update systemd-update-done; do printf '%s=%s ' "$unit" "$(systemctl show -P ConditionResult "$unit.service" 2>&1)"; done)"
# The kiosk's session waits for its user manager, which must not wait for the network (rootfs-overlay/etc/systemd/system/user@.service.d).
p "kiosk-manager-waits-for-user-sessions $(systemctl show -P After "user@$(id -u kiosk).service" | tr ' ' '\n' | grep -cx systemd-user-sessions.service)"
# The app's answer about thinkiosk.conf kept for the next boot (apply-preset): root's alone, or none (a plain PIN was hashed in this boot).
p "preset-checked $(stat -c %U:%a /var/lib/thinkiosk/preset-checked 2>/dev/null || echo none)"
p "failed $(systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')"
p "settings $(tr -d '\n' </var/lib/thinkiosk/settings/settings.json 2>/dev/null || echo missing)"
p "fsck-data $(journalctl -b -o cat -u 'systemd-fsck@*' 2>/dev/null | grep -m1 -i 'TKDATA\|clean\|recover' || echo none)"
p "memory-used-mib $(free -m | awk '/^Mem:/ {print $3}')"
p "kiosk-ready-after $(journalctl -b -o short-monotonic 2>/dev/null | grep -m1 "THINKIOSK-KIOSK-READY page" | sed 's/^\[ *\([0-9.]*\)\].*/\1/')"
# The kiosk's memory (bench/image-bench.ts): PSS of every process of the kiosk user, summed by
# program (node, chromium, cage, ...), in KiB; and where the boot's time went (systemd-analyze).
for pid in $(pgrep -u kiosk); do
  printf '%s %s\n' "$(cat /proc/$pid/comm 2>/dev/null)" "$(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup 2>/dev/null)"
done | awk 'NF == 2 {kib[$1] += $2; n[$1]++; total += $2} END {for (c in kib) printf "probe: kiosk-pss-kib %s %d %d\n", c, kib[c], n[c]; printf "probe: kiosk-pss-kib total %d\n", total}'
# (The boot never "finishes" while this probe's own unit runs, so systemd-analyze time and
# critical-chain have nothing to say: the kiosk's path is given as when each unit on it was up.)
for unit in systemd-udev-trigger.service thinkiosk-preset.service dbus.service systemd-logind.service seatd.service NetworkManager.service thinkiosk-kiosk.service "user@$(id -u kiosk).service"; do
  up=$(systemctl show -p ActiveEnterTimestampMonotonic --value "$unit" 2>/dev/null)
  p "unit-up $unit $(awk -v us="${up:-0}" 'BEGIN { printf "%.1f s", us / 1e6 }')"
done
systemd-analyze blame 2>/dev/null | head -12 | while IFS= read -r line; do p "blame $line"; done
# The native viewers' X server (Xwayland, which cage starts at its first client) answers an X11
# client on the kiosk's display: the image has no OpenGL driver (image/prune/files.list), so
# Xwayland draws in software. Asked last: it adds Xwayland to the kiosk's memory above.
shell=$(pgrep -u kiosk -x node | head -1)
x_env=$(tr '\0' '\n' <"/proc/$shell/environ" 2>/dev/null | grep -E '^(DISPLAY|XAUTHORITY|HOME)=' | tr '\n' ' ')
p "x11 ${x_env:-no-environment} $(runuser -u kiosk -- env $x_env node --input-type=module -e "
  const { inputIdleMs } = await import('/opt/thinkiosk/dist/app/core/native/x11-idle.js');
  try { console.log('answers', await inputIdleMs(process.env.DISPLAY, process.env, 60000), 'ms-idle'); }
  catch (error) { console.log('no-answer', error.message); }" 2>&1 | tail -1)"
p "xwayland $(pgrep -u kiosk -x Xwayland >/dev/null && echo running || echo not-running)"
echo "===PROBE-END==="

if grep -q thinkiosk.probe=write-loop /proc/cmdline; then
  # The kiosk's own settings store (conf: write to a temporary file, fsync, rename), as the kiosk user.
  runuser -u kiosk -- node --input-type=module -e "
    const { Settings } = await import('/opt/thinkiosk/dist/app/core/settings.js');
    const settings = new Settings('/var/lib/thinkiosk/settings');
    for (let i = 1; ; i++) {
      settings.update({ controllerUrl: 'http://saved.example:8480', idleLogoutSeconds: i * 60 });
      console.log('probe: wrote ' + i);
    }" 2>&1
fi
