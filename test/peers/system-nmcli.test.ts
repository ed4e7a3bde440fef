/**
 * The NetworkManager module against Debian's real NetworkManager, run without systemd: on a private
 * D-Bus system bus, in its own network, mount and UTS namespaces (test/peers/system-nm/netns.sh), so
 * the host's network is never touched. This host has no Wi-Fi radio, so Wi-Fi is tested up to where
 * NetworkManager says there is none; the scan's parsing is covered by recorded output
 * (test/unit/system-nmcli.test.ts). Needs root (namespaces).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Nmcli } from '../../app/core/system/nmcli.js';
import { SystemError } from '../../app/core/system/system-error.js';
import { exists, startDaemon, waitFor, type Daemon } from '../support/system-daemons.js';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('../../../test/peers/system-nm/', import.meta.url));
const isRoot = process.getuid?.() === 0;
const OFFICE = 'Office: 2nd floor';

let state = '';
let env: NodeJS.ProcessEnv = {};
let bus: Daemon | undefined;
let networkManager: Daemon | undefined;

function nmcli(...args: string[]) {
  return run('nmcli', args, { env });
}

before(async () => {
  if (!isRoot) return;
  state = await mkdtemp(join(tmpdir(), 'thinkiosk-nm-'));
  const address = `unix:path=${join(state, 'system_bus_socket')}`;
  env = { PATH: process.env.PATH, DBUS_SYSTEM_BUS_ADDRESS: address };
  bus = startDaemon('dbus-daemon', ['--nofork', `--config-file=${join(HERE, 'bus.conf')}`, `--address=${address}`], { env });
  await waitFor('D-Bus', () => exists(join(state, 'system_bus_socket')));
  networkManager = startDaemon('unshare', ['--net', '--mount', '--uts', '--fork', '--kill-child=SIGTERM', 'sh', join(HERE, 'netns.sh'), state], { env });
  await waitFor(`NetworkManager (${networkManager.output()})`, async () => ((await nmcli('-t', 'general', 'status')).stdout ? true : undefined), 20_000);
  await waitFor('the veth devices', async () => ((await nmcli('-t', '-f', 'DEVICE', 'device')).stdout.includes('veth-k0') ? true : undefined));
  // A profile whose name holds nmcli's field separator, up on one end of a veth pair.
  await nmcli('connection', 'add', 'type', 'ethernet', 'ifname', 'veth-k0', 'con-name', OFFICE, 'ipv4.method', 'manual', 'ipv4.addresses', '10.77.0.2/24', 'ipv6.method', 'disabled');
  await nmcli('--wait', '20', 'connection', 'up', 'id', OFFICE);
  // A saved Wi-Fi profile, as wifiConnect leaves one behind.
  await nmcli('connection', 'add', 'type', 'wifi', 'ifname', '*', 'con-name', 'Lab 3', 'ssid', 'Lab 3', 'wifi-sec.key-mgmt', 'wpa-psk');
});

after(async () => {
  await networkManager?.stop();
  await bus?.stop();
  if (state) await rm(state, { recursive: true, force: true });
});

test('nmcli: devices from the real NetworkManager, with the escaped profile name read back whole', { skip: !isRoot && 'needs root for network namespaces' }, async () => {
  const devices = await new Nmcli({ env }).devices();
  assert.deepEqual(devices.find((d) => d.device === 'veth-k0'), { device: 'veth-k0', type: 'ethernet', state: 'connected', connection: OFFICE });
  assert.deepEqual(devices.find((d) => d.device === 'eth-k2'), { device: 'eth-k2', type: 'ethernet', state: 'disconnected', connection: null });
  assert.ok(!devices.some((d) => d.type === 'wifi'));
});

test('nmcli: Wi-Fi on a kiosk without a radio says so, for scanning and for joining', { skip: !isRoot && 'needs root for network namespaces' }, async () => {
  const noRadio = (e: unknown) => e instanceof SystemError && e.kind === 'system' && /no Wi-Fi adapter/.test(e.message);
  await assert.rejects(new Nmcli({ env }).wifiScan(), noRadio);
  await assert.rejects(new Nmcli({ env }).wifiConnect('Lab 3', 'correct horse'), noRadio);
});

test('nmcli: a saved profile is brought up with its secret read from a pipe, never from the command line', { skip: !isRoot && 'needs root for network namespaces' }, async () => {
  // A stand-in nmcli that notes its arguments, then is the real one.
  const argvLog = join(state, 'argv.log');
  const wrapper = join(state, 'nmcli-recording');
  await writeFile(wrapper, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${argvLog}'\nexec nmcli "$@"\n`);
  await chmod(wrapper, 0o755);
  const recorded = new Nmcli({ env, command: wrapper, connectSeconds: 10 });

  // NetworkManager takes the profile and looks for a device for it: there is no Wi-Fi device.
  await assert.rejects(recorded.activate('Lab 3', '802-11-wireless-security.psk:correct horse battery\n'), (e: unknown) => e instanceof SystemError && /no Wi-Fi adapter/.test(e.message));
  // nmcli really reads the password file it is given: a malformed one is its parse error.
  await assert.rejects(recorded.activate('Lab 3', 'not a password line\n'), (e: unknown) => e instanceof SystemError && /invalid passwd-file '[^']+' at line 1/.test(e.detail));

  const argv = await readFile(argvLog, 'utf8');
  const pipes = [...argv.matchAll(/^passwd-file\n(\/.+\/thinkiosk-secret-[^/\n]+\/secret)$/gm)].map((m) => m[1]!);
  assert.equal(pipes.length, 2);
  assert.doesNotMatch(argv, /correct horse|not a password/);
  for (const pipe of pipes) assert.equal(await exists(pipe), undefined, 'the pipe and its directory are gone afterwards');
});

test('nmcli: NetworkManager stopped, no D-Bus, nmcli missing', { skip: !isRoot && 'needs root for network namespaces' }, async () => {
  await networkManager!.stop();
  const notRunning = (e: unknown) => e instanceof SystemError && /^NetworkManager is not running/.test(e.message);
  await assert.rejects(new Nmcli({ env }).devices(), notRunning);
  await assert.rejects(new Nmcli({ env: { PATH: process.env.PATH, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${join(state, 'no-bus')}` } }).devices(), notRunning);
  await assert.rejects(new Nmcli({ command: '/nonexistent/nmcli' }).devices(), (e: unknown) => e instanceof SystemError && /NetworkManager is not installed/.test(e.message));
});
