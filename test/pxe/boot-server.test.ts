/**
 * The boot server as the image runs it (dist/pxe/main.js serve, real dnsmasq), on the namespace LAN
 * (lan.ts), asked over TFTP and HTTP with curl from the site's namespace — no firmware, so it is
 * quick; netboot.test.ts boots real clients. The netboot files here are small stand-ins.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NS, REPO, SERVER_IP, TestLan, WORK } from './lan.js';
import { readBootServerStatus, SWITCH_FILE, writeBootServerSwitch, type BootServerStatus } from '../../contract/boot-server-files.js';
import { hashPin, verifyPin } from '../../app/core/system/admin-pin.js';
import { adminPinInPreset, hashClientPins, readBoxPin } from '../../pxe/admin-pin.js';
import { parseBootServerConfig } from '../../pxe/config.js';
import { renderClientPresets } from '../../pxe/client-preset.js';
import { tmpdir } from 'node:os';

const run = promisify(execFile);
const DIR = join(WORK, 'test-boot-server');
const lan = new TestLan(join(DIR, 'lan'));
const NETBOOT = join(DIR, 'netboot');

/** curl from the site's namespace (10.88.0.1): status code and body. */
async function fetchFrom(url: string, extra: string[] = []): Promise<{ code: number; body: string }> {
  const { stdout } = await run('ip', ['netns', 'exec', NS.site, 'curl', '-s', '--max-time', '10', '-w', '\n%{http_code}', ...extra, url]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '\n0' }));
  const at = stdout.lastIndexOf('\n');
  return { code: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  for (const dir of ['tftp', 'http/amd64']) mkdirSync(join(NETBOOT, dir), { recursive: true });
  for (const loader of ['undionly.kpxe', 'snponly.efi', 'ipxe-arm64.efi']) writeFileSync(join(NETBOOT, 'tftp', loader), `stand-in ${loader}\n`);
  writeFileSync(join(NETBOOT, 'http/amd64/vmlinuz'), 'stand-in kernel\n');
  writeFileSync(join(NETBOOT, 'http/amd64/initrd.img'), 'stand-in initramfs\n');
  writeFileSync(join(NETBOOT, 'http/amd64/root.squashfs'), Buffer.alloc(3 * 1024 * 1024, 7));
  writeFileSync(join(DIR, 'secret.txt'), 'not for clients\n');
  await lan.up();
});

after(async () => {
  await lan.down();
  // A failed check above may leave the killed server's dnsmasq behind: never past this file.
  await run('pkill', ['-f', `dnsmasq .*--conf-file=${DIR}/`]).catch(() => {});
});

const PROXY = `enabled: true
mode: proxy
interface: srv0
menu: { timeoutSeconds: 3 }
defaults: { controller: "http://controller.lab.example:8480", language: en }
clients:
  - { mac: "52:54:00:88:00:07", language: zh-CN, hostname: lab3-kiosk-07 }
  - { mac: "52:54:00:88:00:08", adminPin: "097531" }
`;
/** The box's own thinkiosk.conf: its admin PIN (plain, as before its first boot) is the clients' default. */
const BOX_PRESET = 'controller = http://box.example\nadmin_pin = 2468\n';

/** The admin_pin line of a served preset: a hash, never the PIN itself. */
function servedPinHash(preset: string): string {
  const hash = /^admin_pin = (scrypt\$\S+)$/m.exec(preset)?.[1];
  assert.ok(hash, `an admin PIN hash in the preset:\n${preset}`);
  return hash;
}

test('proxy-DHCP server: TFTP gives the boot menu, HTTP the kiosk and the per-MAC presets, nothing else; the status says what was served', { timeout: 120_000 }, async () => {
  const server = await lan.startBootServer('proxy', PROXY, NETBOOT, { preset: BOX_PRESET });
  try {
    const conf = readFileSync(join(server.stateDir, 'dnsmasq.conf'), 'utf8');
    assert.match(conf, /^dhcp-range=10\.88\.0\.0,proxy,255\.255\.255\.0$/m, 'proxy range on the box\'s subnet');
    assert.doesNotMatch(conf, /option:router/, 'a proxy hands out no router');

    const menu = await fetchFrom(`tftp://${SERVER_IP}/menu.ipxe`);
    assert.match(menu.body, /^#!ipxe/, 'the menu over TFTP');
    assert.match(menu.body, /choose --timeout 3000 --default tk-kiosk/, 'the configured menu timeout');
    assert.match(menu.body, /^set tk-base http:\/\/10\.88\.0\.2:8069$/m, 'kernel and initramfs over HTTP from the box');
    assert.match(menu.body, /kernel \$\{tk-base\}\/\$\{tk-arch\}\/vmlinuz initrd=initrd\.img /, 'initrd= on the kernel line (UEFI)');
    assert.match(menu.body, /console=ttyS0,115200/, 'serial console on');
    assert.equal((await fetchFrom(`tftp://${SERVER_IP}/undionly.kpxe`)).body, 'stand-in undionly.kpxe\n', 'the BIOS loader over TFTP');

    const root = await fetchFrom(`http://${SERVER_IP}:8069/amd64/root.squashfs`, ['-o', '/dev/null']);
    assert.equal(root.code, 200, 'the root file system over HTTP');
    const head = await fetchFrom(`http://${SERVER_IP}:8069/amd64/vmlinuz`, ['-I']);
    assert.match(head.body, /Content-Length: 16/i, 'HEAD gives the size');

    const own = await fetchFrom(`http://${SERVER_IP}:8069/clients/52-54-00-88-00-07.conf`);
    assert.equal(own.code, 200);
    assert.match(own.body, /^controller = http:\/\/controller\.lab\.example:8480$/m, 'the defaults');
    assert.match(own.body, /^language = zh-CN$/m, 'the client\'s own language wins');
    assert.match(own.body, /^hostname = lab3-kiosk-07$/m);
    assert.doesNotMatch(own.body, /boot_server/, 'a netbooted client never serves');
    const fallback = await fetchFrom(`http://${SERVER_IP}:8069/clients/default.conf`);
    assert.match(fallback.body, /^language = en$/m);
    assert.equal((await fetchFrom(`http://${SERVER_IP}:8069/clients/52-54-00-88-00-99.conf`)).code, 404, 'no file for an unknown MAC (the client then takes default.conf)');

    // Every netbooted kiosk has an admin PIN: the box's own by default, a client's own where it has one.
    for (const preset of [own.body, fallback.body]) {
      assert.ok(await verifyPin('2468', servedPinHash(preset)), 'clients get the box\'s admin PIN');
      assert.doesNotMatch(preset, /2468/, 'as a hash only');
    }
    const ownPin = (await fetchFrom(`http://${SERVER_IP}:8069/clients/52-54-00-88-00-08.conf`)).body;
    assert.ok(await verifyPin('097531', servedPinHash(ownPin)), 'a client\'s own PIN wins, leading zero kept');
    assert.ok(!(await verifyPin('2468', servedPinHash(ownPin))));
    assert.match(server.log(), /netbooted kiosks get the admin PIN from admin_pin in \S+proxy-thinkiosk\.conf/, 'the log says where the PIN comes from');

    for (const path of ['/../secret.txt', '/amd64/../../secret.txt', '/%2e%2e/secret.txt', '/amd64/', '/', '/.hidden']) {
      const answer = await fetchFrom(`http://${SERVER_IP}:8069${path}`, ['--path-as-is']);
      assert.equal(answer.code, 404, `${path} is not served`);
    }
    assert.equal((await fetchFrom(`http://${SERVER_IP}:8069/amd64/vmlinuz`, ['-X', 'PUT'])).code, 405, 'read-only');

    const status = server.status();
    assert.equal(status.state, 'running');
    assert.equal(status.mode, 'proxy');
    assert.equal(status.address, SERVER_IP);
    assert.deepEqual(status.arches, ['amd64']);
    assert.ok(status.problems.some((p) => /Raspberry Pi/.test(p)), `the missing Pi files are a problem in the status: ${status.problems.join(' / ')}`);
    assert.ok(!status.problems.some((p) => /admin PIN/.test(p)), 'no PIN problem when the box has one');
    assert.ok(status.events.some((e) => e.kind === 'tftp' && /sent \/menu\.ipxe/.test(e.detail) && e.client === '10.88.0.1'), 'the TFTP transfer is in the status');
    assert.ok(status.events.some((e) => e.kind === 'http' && /GET \/amd64\/root\.squashfs 200 3145728 bytes/.test(e.detail)), 'the HTTP transfer is in the status');

    await assert.rejects(lan.startBootServer('second', PROXY, NETBOOT), /cannot start: .*(in use|another)/, 'a second boot server on the same box says why it cannot start');
  } finally {
    await lan.stop(server.child);
  }
  assert.equal(server.status().state, 'stopped', 'the status says stopped after SIGTERM');
});

test('full DHCP: hands out the configured range with the site\'s router and DNS (never itself); mistakes stop it with the setting named; no PIN anywhere is a problem in the status', { timeout: 60_000 }, async () => {
  const server = await lan.startBootServer('full', `enabled: true
mode: full
interface: srv0
full: { rangeStart: 10.88.0.100, rangeEnd: 10.88.0.149, router: 10.88.0.1, dnsServers: [10.88.0.1], domain: lab3.example }
`, NETBOOT);
  try {
    // Neither the box nor the configuration has a PIN: the admin screen's status says so.
    assert.ok(server.status().problems.some((p) => /netbooted kiosks get no admin PIN: set admin_pin in this box's thinkiosk\.conf/.test(p)), server.status().problems.join(' / '));
    assert.doesNotMatch((await fetchFrom(`http://${SERVER_IP}:8069/clients/default.conf`)).body, /admin_pin/);
    const conf = readFileSync(join(server.stateDir, 'dnsmasq.conf'), 'utf8');
    assert.match(conf, /^dhcp-range=10\.88\.0\.100,10\.88\.0\.149,255\.255\.255\.0,12h$/m);
    assert.match(conf, /^dhcp-option=option:router,10\.88\.0\.1$/m);
    assert.match(conf, /^dhcp-option=option:dns-server,10\.88\.0\.1$/m);
    assert.match(conf, /^dhcp-boot=tag:efi-x64,tag:!ipxe,snponly\.efi,,10\.88\.0\.2$/m);
    assert.equal(server.status().mode, 'full');
  } finally {
    await lan.stop(server.child);
  }
  await assert.rejects(lan.startBootServer('own-router', `enabled: true
mode: full
interface: srv0
full: { rangeStart: 10.88.0.100, rangeEnd: 10.88.0.149, router: 10.88.0.2, dnsServers: [10.88.0.2] }
`, NETBOOT), /full\.router is this box's own address[\s\S]*full\.dnsServers contains this box's own address/);
  await assert.rejects(lan.startBootServer('no-interface', 'enabled: true\ninterface: eth7\n', NETBOOT), /eth7 has no IPv4 address/);
});

test('off by default: serve without "enabled: true" or "boot_server = on" starts nothing', { timeout: 30_000 }, async () => {
  const config = join(DIR, 'off.yaml');
  writeFileSync(config, 'mode: proxy\ninterface: srv0\n');
  const { stdout } = await run('ip', ['netns', 'exec', NS.server, process.execPath, join(REPO, 'dist/pxe/main.js'), 'serve',
    '--config', config, '--preset', join(DIR, 'no-such-thinkiosk.conf'), '--netboot', NETBOOT, '--state', join(DIR, 'off-state')]);
  assert.match(stdout, /boot server: off/);
  const preset = join(DIR, 'thinkiosk.conf');
  writeFileSync(preset, 'controller = http://x.example\nboot_server = on\n');
  const child = await lan.spawnLogged('preset-on', NS.server, [process.execPath, join(REPO, 'dist/pxe/main.js'), 'serve',
    '--config', config, '--preset', preset, '--netboot', NETBOOT, '--state', join(DIR, 'on-state')], /boot server: proxy-DHCP on srv0/);
  await lan.stop(child);
});

/** dnsmasq processes whose command line names this state directory's configuration. */
async function dnsmasqsOf(stateDir: string): Promise<number[]> {
  const { stdout } = await run('pgrep', ['-f', `dnsmasq .*--conf-file=${stateDir}/dnsmasq.conf`]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter(Boolean).map(Number);
}

test('dnsmasq never outlives the boot server: stopped with it on SIGTERM (even during start-up), and a leftover of a killed server is stopped at the next start', { timeout: 90_000 }, async () => {
  // SIGTERM while the server is still starting (its state is written, dnsmasq not yet up): it must
  // still end, and take dnsmasq along.
  writeFileSync(join(DIR, 'early.yaml'), PROXY);
  const earlyState = join(DIR, 'early-state');
  const early = spawn('ip', ['netns', 'exec', NS.server, process.execPath, join(REPO, 'dist/pxe/main.js'), 'serve',
    '--config', join(DIR, 'early.yaml'), '--netboot', NETBOOT, '--state', earlyState], { stdio: ['ignore', 'pipe', 'pipe'] });
  let earlyLog = '';
  early.stdout.on('data', (chunk: Buffer) => (earlyLog += chunk.toString()));
  const earlyExit = new Promise<number | null>((done) => early.once('exit', done));
  while (!existsSync(join(earlyState, 'dnsmasq.conf')) && early.exitCode === null) await sleep(5);
  early.kill('SIGTERM');
  assert.equal(await earlyExit, 0, `a stop during start-up ends the server cleanly:\n${earlyLog}`);
  assert.match(earlyLog, /boot server: stopping \(SIGTERM\)/);
  assert.deepEqual(await dnsmasqsOf(earlyState), [], 'no dnsmasq stays behind');

  const server = await lan.startBootServer('killed', PROXY, NETBOOT);
  const before = await dnsmasqsOf(server.stateDir);
  assert.equal(before.length, 1, 'one dnsmasq runs for the server');
  server.child.kill('SIGKILL');
  await new Promise((done) => server.child.once('exit', done));
  assert.deepEqual(await dnsmasqsOf(server.stateDir), before, 'SIGKILL leaves dnsmasq behind (nothing can catch it)');

  const again = await lan.startBootServer('killed', PROXY, NETBOOT);
  try {
    const now = await dnsmasqsOf(again.stateDir);
    assert.equal(now.length, 1, 'one dnsmasq again');
    assert.notEqual(now[0], before[0], 'the leftover was stopped and a new one started');
    assert.match((await fetchFrom(`tftp://${SERVER_IP}/menu.ipxe`)).body, /^#!ipxe/, 'and it serves');
  } finally {
    await lan.stop(again.child);
  }
  assert.deepEqual(await dnsmasqsOf(again.stateDir), [], 'SIGTERM stops dnsmasq with the server');
});

/** Polls the state directory's status until `state` (the service writes it on every change). */
async function statusBecomes(stateDir: string, state: string, seconds = 20): Promise<BootServerStatus> {
  for (const deadline = Date.now() + seconds * 1000; Date.now() < deadline; await sleep(200)) {
    const reading = readBootServerStatus(stateDir);
    if (reading.kind === 'ok' && reading.status.state === state) return reading.status;
  }
  throw new Error(`the boot server's status did not become "${state}" within ${seconds} s: ${JSON.stringify(readBootServerStatus(stateDir))}`);
}

test('the admin screen\'s switch: the service (serve --watch) waits while off, serves once switched on, stops dnsmasq once switched off; the switch wins over the files', { timeout: 90_000 }, async () => {
  const config = join(DIR, 'watch.yaml');
  writeFileSync(config, 'mode: proxy\ninterface: srv0\n');
  const settings = join(DIR, 'kiosk-settings');
  mkdirSync(settings, { recursive: true });
  const state = join(DIR, 'watch-state');
  const preset = join(DIR, 'watch-thinkiosk.conf');
  writeFileSync(preset, 'boot_server = on\n');
  const child = await lan.spawnLogged('watch', NS.server, [process.execPath, join(REPO, 'dist/pxe/main.js'), 'serve', '--watch',
    '--config', config, '--preset', join(DIR, 'no-such-thinkiosk.conf'), '--switch', join(settings, SWITCH_FILE), '--netboot', NETBOOT, '--state', state], /boot server: off/);
  try {
    const off = await statusBecomes(state, 'off');
    assert.match(off.reason ?? '', /off by default/);
    assert.equal((await fetchFrom(`tftp://${SERVER_IP}/menu.ipxe`)).code, 0, 'nothing is served while off');

    await writeBootServerSwitch(join(settings, SWITCH_FILE), true);
    const on = await statusBecomes(state, 'running');
    assert.match(on.reason ?? '', /switched on on the admin screen/);
    assert.match((await fetchFrom(`tftp://${SERVER_IP}/menu.ipxe`)).body, /^#!ipxe/, 'serves once switched on');
    assert.equal((await dnsmasqsOf(state)).length, 1);

    await writeBootServerSwitch(join(settings, SWITCH_FILE), false);
    const offAgain = await statusBecomes(state, 'off');
    assert.match(offAgain.reason ?? '', /switched off on the admin screen/);
    assert.deepEqual(await dnsmasqsOf(state), [], 'dnsmasq stopped once switched off');
    assert.equal(child.exitCode, null, 'the service keeps running, waiting for the switch');
  } finally {
    await lan.stop(child);
  }

  // The admin's "off" wins over boot_server = on in the boot partition's preset.
  const withPreset = await lan.spawnLogged('watch-preset', NS.server, [process.execPath, join(REPO, 'dist/pxe/main.js'), 'serve', '--watch',
    '--config', config, '--preset', preset, '--switch', join(settings, SWITCH_FILE), '--netboot', NETBOOT, '--state', state], /boot server: off/);
  await lan.stop(withPreset);
  rmSync(join(settings, SWITCH_FILE));
  const presetOn = await lan.spawnLogged('watch-preset-on', NS.server, [process.execPath, join(REPO, 'dist/pxe/main.js'), 'serve', '--watch',
    '--config', config, '--preset', preset, '--switch', join(settings, SWITCH_FILE), '--netboot', NETBOOT, '--state', state], /boot server: proxy-DHCP on srv0/);
  try {
    assert.match((await statusBecomes(state, 'running')).reason ?? '', /boot_server = on in/, 'with no admin choice the preset decides');
  } finally {
    await lan.stop(presetOn);
  }
});

test('a broken configuration: the service says which setting is wrong, in its output and in the status the admin screen reads', { timeout: 30_000 }, async () => {
  const config = join(DIR, 'broken.yaml');
  writeFileSync(config, 'enabled: true\nmode: full\ninterface: srv0\nfull: { rangeStart: 10.88.0.100, rangeEnd: 10.88.0.149, router: 10.88.0.300, dnsServers: [10.88.0.1] }\n');
  const state = join(DIR, 'broken-state');
  const failed = await run('ip', ['netns', 'exec', NS.server, process.execPath, join(REPO, 'dist/pxe/main.js'), 'serve', '--config', config, '--netboot', NETBOOT, '--state', state])
    .then(() => null, (error: { stdout?: string; code?: number }) => error);
  assert.ok(failed, 'it does not start');
  assert.match(failed.stdout ?? '', /full\.router: must be an IPv4 address/);
  const reading = readBootServerStatus(state);
  assert.equal(reading.kind, 'ok', JSON.stringify(reading));
  const status = reading.kind === 'ok' ? reading.status : null;
  assert.equal(status?.state, 'failed');
  assert.match(status?.error ?? '', /full\.router: must be an IPv4 address/);
});

test('netbooted kiosks\' admin PIN: the box\'s own by default (thinkiosk.conf, else its admin screen\'s), the configuration\'s defaults over it, a client\'s own over both; always a hash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pxe-pin-'));
  try {
    const preset = join(dir, 'thinkiosk.conf');
    const settings = join(dir, 'settings.json');
    const screenHash = await hashPin('13579');
    writeFileSync(settings, JSON.stringify({ controllerUrl: null, adminPinHash: screenHash }));
    assert.deepEqual(readBoxPin(preset, settings), { value: screenHash, source: `the PIN set on this box's admin screen (${settings})` }, 'no thinkiosk.conf: the admin screen\'s PIN');
    writeFileSync(preset, '\uFEFFcontroller = http://x\r\nadmin_pin = 2468\r\n#admin_pin = 1111\r\n');
    assert.deepEqual(readBoxPin(preset, settings), { value: '2468', source: `admin_pin in ${preset}` }, 'thinkiosk.conf\'s PIN first');
    assert.equal(readBoxPin(join(dir, 'none.conf'), join(dir, 'none.json')), null);
    writeFileSync(settings, '{ damaged');
    assert.equal(readBoxPin(join(dir, 'none.conf'), settings), null, 'a damaged settings file is no PIN, not a crash');

    const config = parseBootServerConfig({ clients: [{ mac: '52:54:00:00:00:01' }, { mac: '52:54:00:00:00:02', adminPin: '0246' }] }, 'x');
    const fromBox = await hashClientPins(config, { value: '2468', source: 'admin_pin in thinkiosk.conf' });
    assert.deepEqual(fromBox.problems, []);
    assert.equal(fromBox.defaultSource, 'admin_pin in thinkiosk.conf');
    const files = renderClientPresets(fromBox.config, '10.0.0.2');
    const hashOf = (name: string): string => /^admin_pin = (\S+)$/m.exec(files.get(name)!)?.[1] ?? '';
    assert.ok(await verifyPin('2468', hashOf('default.conf')));
    assert.ok(await verifyPin('2468', hashOf('52-54-00-00-00-01.conf')));
    assert.ok(await verifyPin('0246', hashOf('52-54-00-00-00-02.conf')), 'the client\'s own, leading zero kept');
    for (const text of files.values()) assert.doesNotMatch(text, /= (2468|0246)$/m, 'never a plain PIN');

    const site = await hashClientPins(parseBootServerConfig({ defaults: { adminPin: '86420' } }, 'x'), { value: screenHash, source: 'screen' });
    assert.ok(await verifyPin('86420', site.config.defaults.adminPin!), 'defaults.adminPin wins over the box\'s');
    assert.equal(site.defaultSource, 'defaults.adminPin in the boot server configuration');
    const kept = await hashClientPins(parseBootServerConfig({}, 'x'), { value: screenHash, source: 'screen' });
    assert.equal(kept.config.defaults.adminPin, screenHash, 'a hash is handed on as it is');

    const none = await hashClientPins(parseBootServerConfig({}, 'x'), null);
    assert.match(none.problems.join('\n'), /netbooted kiosks get no admin PIN/);
    assert.doesNotMatch(renderClientPresets(none.config, '10.0.0.2').get('default.conf')!, /admin_pin/);
    const bad = await hashClientPins(parseBootServerConfig({}, 'x'), { value: '12', source: 'admin_pin in thinkiosk.conf' });
    assert.match(bad.problems.join('\n'), /admin PIN \(admin_pin in thinkiosk\.conf\) is neither 4 to 12 digits nor a PIN hash/);

    assert.throws(() => parseBootServerConfig({ defaults: { adminPin: 2468 } }, 'x'), /defaults\.adminPin: must be written in quotes/);
    assert.throws(() => parseBootServerConfig({ clients: [{ mac: '52:54:00:00:00:01', adminPin: '12ab' }] }, 'x'), /clients\.0\.adminPin: must be 4 to 12 digits/);
    assert.throws(() => renderClientPresets(parseBootServerConfig({ defaults: { adminPin: '2468' } }, 'x'), '10.0.0.2'), /plain admin PIN reached the client preset/);
    assert.equal(adminPinInPreset('admin_pin = "2468"\nadmin_pin =\n'), null, 'the last line wins, and an empty one is none');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
