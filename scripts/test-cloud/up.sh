#!/bin/bash
# up.sh — a real single-node OpenStack (Debian 12 "Zed" packages) on loopback, for thinkiosk's tests,
# demo and benchmarks. Works without systemd: every daemon is started directly and tracked by pid file.
#   scripts/test-cloud/up.sh          bring it up from nothing (about a minute), seed users/images/servers
#   scripts/test-cloud/up.sh down     stop everything it started
#   scripts/test-cloud/up.sh stop-service|start-service keystone|nova-api
#                                      take one API service away and back (outage tests)
# Packages: scripts/install-deps.sh cloud. State: $THINKIOSK_CLOUD_DIR (default /var/tmp/thinkiosk-cloud).
# Ports (127.0.0.1): keystone 5000, nova 8774, placement 8778, glance 9292, neutron 9696,
#   novncproxy 6080, spicehtml5proxy 6082, mariadb 13306, rabbitmq 5672; libvirt guests VNC/SPICE 5900+.
# Users: admin/adminpass (project admin); alice/alicepass, bob/bobpass (member of project "kiosk").
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 must win over pyenv/nvm shims: the OpenStack services import from dist-packages.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
P=${THINKIOSK_CLOUD_DIR:-/var/tmp/thinkiosk-cloud}
RUN=$P/run; LOG=$P/log
T0=$(date +%s.%N)
say() { printf '[cloud %6.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }
die() { say "ERROR: $*"; exit 1; }
# start NAME USER CMD...: a daemon in the background, output in $LOG/NAME.out, pid in $RUN/NAME.pid
start() { local name=$1 user=$2; shift 2
  nohup setpriv --reuid="$user" --regid="$user" --init-groups "$@" >"$LOG/$name.out" 2>&1 &
  echo $! >"$RUN/$name.pid"; }
wait_http() { local url=$1 i code
  for i in $(seq 300); do code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
    case $code in 2*|3*|401) say "$url answers ($code)"; return 0;; esac; sleep 0.2; done
  die "$url did not come up; see $LOG"; }

down() {
  local pids="" f pid alive="" i d
  # The guests first, while libvirtd can still destroy them; a guest whose libvirtd is already
  # gone would otherwise keep running (and taking CPU from the emulated boots that follow).
  if [ -f "$RUN/libvirt.ours" ]; then
    for d in $(virsh -c qemu:///system list --all --name 2>/dev/null | grep '^instance-' || true); do
      virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true; virsh -c qemu:///system undefine "$d" >/dev/null 2>&1 || true; done
    pkill -f '^/usr/bin/qemu-system-x86_64 -name guest=instance-' 2>/dev/null || true
    kill "$(cat /run/libvirtd.pid 2>/dev/null)" "$(cat /run/virtlogd.pid 2>/dev/null)" 2>/dev/null || true; rm -f "$RUN/libvirt.ours"
  fi
  # "|| true": a daemon without children (mariadbd) makes pgrep fail, and under set -e that failed
  # substitution used to end down() there, leaving every later daemon running through the image tests.
  for f in "$RUN"/*.pid; do [ -f "$f" ] || continue; pid=$(cat "$f")
    pids="$pids $pid $(pgrep -P "$pid" | tr '\n' ' ' || true)"; kill "$pid" 2>/dev/null || true; rm -f "$f"; done
  for i in $(seq 30); do alive=""; for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
    [ -z "$alive" ] && break; sleep 0.3; done
  [ -n "$alive" ] && kill -9 $alive 2>/dev/null || true
  if [ -f "$RUN/rabbit.ours" ]; then rabbitmqctl stop >/dev/null 2>&1 || true; epmd -kill >/dev/null 2>&1 || true; rm -f "$RUN/rabbit.ours"; fi
  ip link del tkphys1 2>/dev/null || true; ip link del tkphys2 2>/dev/null || true
}
if [ "${1:-}" = down ]; then down; say "cloud stopped"; exit 0; fi
# Outage tests: stop/start one uwsgi-served API (its master's pid file is in $RUN).
if [ "${1:-}" = stop-service ] || [ "${1:-}" = start-service ]; then
  svc=${2:?service name: keystone or nova-api}; [ -f "$P/uwsgi/$svc.ini" ] || die "no such service: $svc"
  if [ "$1" = stop-service ]; then
    pid=$(cat "$RUN/$svc.pid" 2>/dev/null || true); [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; say "$svc stopped"
  else
    nohup uwsgi_python3 --ini "$P/uwsgi/$svc.ini" >>"$LOG/$svc.out" 2>&1 &
    port=$(sed -n 's/^http-socket = 127.0.0.1://p' "$P/uwsgi/$svc.ini"); wait_http "http://127.0.0.1:$port/"
  fi
  exit 0
fi

for b in mariadbd rabbitmq-server keystone-manage nova-manage glance-manage neutron-server uwsgi_python3 libvirtd; do
  command -v "$b" >/dev/null || die "$b is missing: run 'scripts/install-deps.sh cloud' first"; done

# ---- 1. fresh state (the cloud is disposable: every run starts from an empty database)
down >/dev/null 2>&1 || true
rm -rf "$P"; mkdir -p "$RUN" "$LOG" "$P/mysql" "$P/uwsgi"; chown mysql:mysql "$P/mysql"; chmod 755 "$P" "$RUN"
rm -rf /var/lib/glance/images/* /var/lib/nova/instances/* /etc/keystone/fernet-keys /etc/keystone/credential-keys
mkdir -p /var/lib/glance/images /var/lib/glance/lock /var/lib/neutron/lock /var/lib/nova/tmp
chown -R glance:glance /var/lib/glance; chown -R neutron:neutron /var/lib/neutron; chown -R nova:nova /var/lib/nova
for s in keystone nova glance placement neutron; do mkdir -p /var/log/$s; chown $s:$s /var/log/$s; rm -f /var/log/$s/*.log; done
install -m 644 "$HERE/etc/keystone.conf" /etc/keystone/keystone.conf
install -m 644 "$HERE/etc/placement.conf" /etc/placement/placement.conf
install -m 644 "$HERE/etc/glance-api.conf" /etc/glance/glance-api.conf
install -m 644 "$HERE/etc/nova.conf" "$HERE/etc/nova-compute-fake.conf" "$HERE/etc/nova-compute-libvirt.conf" /etc/nova/
install -m 644 "$HERE/etc/neutron.conf" /etc/neutron/neutron.conf
install -m 644 "$HERE/etc/ml2_conf.ini" "$HERE/etc/linuxbridge_agent.ini" /etc/neutron/plugins/ml2/
chgrp nova /etc/nova/*.conf; chgrp neutron /etc/neutron/neutron.conf /etc/neutron/plugins/ml2/*.ini
chgrp keystone /etc/keystone/keystone.conf; chgrp glance /etc/glance/glance-api.conf; chgrp placement /etc/placement/placement.conf
uwsgi_ini() { sed -e "s|@NAME@|$1|; s|@PORT@|$2|; s|@WSGI@|$3|; s|@USER@|$4|g; s|@PROCESSES@|$5|; s|@THREADS@|$6|; s|@LOG@|$LOG/$1-uwsgi.log|; s|@PIDFILE@|$RUN/$1.pid|" \
  "$HERE/etc/uwsgi.ini.in" >"$P/uwsgi/$1.ini"; }
uwsgi_ini keystone 5000 /usr/bin/keystone-wsgi-public keystone 2 4
uwsgi_ini placement 8778 /usr/bin/placement-api placement 1 4
uwsgi_ini nova-api 8774 /usr/bin/nova-api-wsgi nova 2 1
say "configuration installed"

# ---- 2. MariaDB (a private instance on 13306) and RabbitMQ
mariadb-install-db --user=mysql --datadir="$P/mysql" --auth-root-authentication-method=normal --skip-test-db >"$LOG/mysql-install.log" 2>&1
nohup mariadbd --no-defaults --user=mysql --datadir="$P/mysql" --socket="$P/mysql/mysql.sock" --port=13306 \
  --bind-address=127.0.0.1 --log-error="$LOG/mariadb.err" --innodb-buffer-pool-size=64M --max-connections=500 \
  --innodb-flush-log-at-trx-commit=0 --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci >/dev/null 2>&1 &
echo $! >"$RUN/mariadb.pid"
SQL="mariadb -S $P/mysql/mysql.sock -uroot"
for i in $(seq 100); do $SQL -e 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
for db in keystone placement glance nova_api nova nova_cell0 neutron; do $SQL -e "CREATE DATABASE $db"; done
$SQL -e "CREATE USER 'os'@'127.0.0.1' IDENTIFIED BY 'ospass'; GRANT ALL ON *.* TO 'os'@'127.0.0.1';"
say "mariadb up"
if ! rabbitmqctl status >/dev/null 2>&1; then (nohup /usr/sbin/rabbitmq-server >"$LOG/rabbitmq.out" 2>&1 &); touch "$RUN/rabbit.ours"; fi

# ---- 3. schemas (in parallel) and Keystone
asuser() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
( asuser placement placement-manage db sync ) >"$LOG/placement-sync.log" 2>&1 & W1=$!
( asuser glance glance-manage db_sync ) >"$LOG/glance-sync.log" 2>&1 & W2=$!
( asuser nova sh -c "nova-manage api_db sync && nova-manage cell_v2 map_cell0 && nova-manage cell_v2 create_cell --name=cell1 && nova-manage db sync" ) >"$LOG/nova-sync.log" 2>&1 & W3=$!
( asuser neutron neutron-db-manage --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade heads ) >"$LOG/neutron-sync.log" 2>&1 & W4=$!
asuser keystone keystone-manage db_sync >"$LOG/keystone-sync.log" 2>&1
keystone-manage fernet_setup --keystone-user keystone --keystone-group keystone 2>/dev/null
keystone-manage credential_setup --keystone-user keystone --keystone-group keystone 2>/dev/null
keystone-manage bootstrap --bootstrap-password adminpass --bootstrap-region-id RegionOne \
  --bootstrap-admin-url http://127.0.0.1:5000/v3/ --bootstrap-internal-url http://127.0.0.1:5000/v3/ \
  --bootstrap-public-url http://127.0.0.1:5000/v3/ >"$LOG/keystone-bootstrap.log" 2>&1
nohup uwsgi_python3 --ini "$P/uwsgi/keystone.ini" >"$LOG/keystone.out" 2>&1 &
for w in $W1 $W2 $W3 $W4; do wait $w || die "a database sync failed; see $LOG/*-sync.log"; done
say "databases synced"
wait_http http://127.0.0.1:5000/v3
/usr/bin/python3 "$HERE/seed.py" identity "$P" >"$LOG/seed-identity.log" 2>&1 || die "keystone seeding failed: $(tail -3 "$LOG/seed-identity.log")"
say "keystone: users, projects, services, endpoints"

# ---- 4. libvirt (for real guests with VNC/SPICE), Neutron, and the API services
grep -q thinkiosk-test-cloud /etc/libvirt/qemu.conf || printf '# thinkiosk-test-cloud: no systemd/cgroups, no apparmor\ncgroup_controllers = [ ]\nsecurity_driver = "none"\n' >>/etc/libvirt/qemu.conf
grep -q thinkiosk-test-cloud /etc/libvirt/libvirtd.conf || printf '# thinkiosk-test-cloud: no dbus/polkit\nunix_sock_group = "libvirt"\nunix_sock_rw_perms = "0770"\nauth_unix_ro = "none"\nauth_unix_rw = "none"\n' >>/etc/libvirt/libvirtd.conf
if ! virsh -c qemu:///system version >/dev/null 2>&1; then
  mkdir -p /run/libvirt; (nohup /usr/sbin/virtlogd >"$LOG/virtlogd.out" 2>&1 &); (nohup /usr/sbin/libvirtd >"$LOG/libvirtd.out" 2>&1 &); touch "$RUN/libvirt.ours"
  for i in $(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
fi
# Nova numbers domains from instance-00000001 again in every fresh database, so a definition left by
# an earlier run that was killed before its teardown makes the first libvirt build fail with
# "domain already exists". Guests of the test cloud are disposable: drop them all.
for d in $(virsh -c qemu:///system list --all --name 2>/dev/null | grep '^instance-' || true); do
  virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true; virsh -c qemu:///system undefine "$d" >/dev/null 2>&1 || true; done
# Veth pairs (left down: this kernel has no dummy links) back the flat "physical" networks of the
# Linux bridge agent; nothing is ever sent on them.
for l in tkphys1 tkphys2; do ip link show $l >/dev/null 2>&1 || ip link add $l type veth peer name ${l}p; done
nohup uwsgi_python3 --ini "$P/uwsgi/placement.ini" >"$LOG/placement.out" 2>&1 &
nohup uwsgi_python3 --ini "$P/uwsgi/nova-api.ini" >"$LOG/nova-api.out" 2>&1 &
start glance-api glance glance-api --config-file /etc/glance/glance-api.conf
start neutron-server neutron neutron-server --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini
for i in $(seq 120); do rabbitmqctl status >/dev/null 2>&1 && break; sleep 0.5; done
rabbitmqctl add_user openstack rabbitpass >/dev/null 2>&1 || rabbitmqctl change_password openstack rabbitpass >/dev/null
rabbitmqctl set_permissions openstack ".*" ".*" ".*" >/dev/null; say "rabbitmq up"
nohup neutron-linuxbridge-agent --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/linuxbridge_agent.ini \
  >"$LOG/neutron-linuxbridge-agent.out" 2>&1 & echo $! >"$RUN/neutron-linuxbridge-agent.pid"
start nova-conductor nova nova-conductor --config-file /etc/nova/nova.conf
start nova-scheduler nova nova-scheduler --config-file /etc/nova/nova.conf
start nova-compute-fake nova nova-compute --config-file /etc/nova/nova.conf --config-file /etc/nova/nova-compute-fake.conf
start nova-compute-libvirt nova nova-compute --config-file /etc/nova/nova.conf --config-file /etc/nova/nova-compute-libvirt.conf
start nova-novncproxy nova nova-novncproxy --config-file /etc/nova/nova.conf --web /usr/share/novnc
start nova-spicehtml5proxy nova nova-spicehtml5proxy --config-file /etc/nova/nova.conf --web /usr/share/spice-html5
wait_http http://127.0.0.1:8778/; wait_http http://127.0.0.1:9292/; wait_http http://127.0.0.1:8774/; wait_http http://127.0.0.1:9696/

# ---- 5. compute hosts into the cell, then flavor, images, networks and the users' servers
for i in $(seq 120); do
  n=$($SQL -N -e "select count(*) from nova.compute_nodes where deleted=0" 2>/dev/null || echo 0); [ "$n" -ge 2 ] && break; sleep 0.5; done
[ "$n" -ge 2 ] || die "only $n of 2 nova-compute services registered; see $LOG/nova-compute-*.out"
asuser nova nova-manage cell_v2 discover_hosts >"$LOG/discover.log" 2>&1
say "compute hosts discovered"
[ -f "$P/../thinkiosk-guest/vmlinuz" ] || "$HERE/mkguest.sh" "$P/../thinkiosk-guest" >"$LOG/mkguest.log" 2>&1 || die "guest build failed: $(tail -3 "$LOG/mkguest.log")"
/usr/bin/python3 "$HERE/seed.py" cloud "$P" >"$LOG/seed-cloud.log" 2>&1 || die "cloud seeding failed: $(tail -5 "$LOG/seed-cloud.log")"
say "CLOUD UP: keystone http://127.0.0.1:5000/v3 — alice/alicepass, bob/bobpass in project kiosk; inventory in $P/cloud.json"
