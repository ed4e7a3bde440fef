/**
 * Root's update agent and health gate on real files: slot files in a directory, bundles written by
 * the build's writer, a disk image with the A/B layout (sfdisk) as the slot target, a real HTTP
 * server on 127.0.0.1, tune2fs for the slot's label, the status file the kiosk reads. Only the
 * reboot is a stand-in (it records that it was asked): this machine must not restart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import got from 'got';
import { keyIdOf } from '../../contract/update-bundle.js';
import type { UpdateStatus } from '../../contract/update-status.js';
import { stickFileSystems, parseLsblk } from '../../app/core/update/block-devices.js';
import { BootSlots, formatEnvBlock, formatSlotFile, parseSlotFile } from '../../app/core/update/boot-slots.js';
import { classifyBoot, readHealth, runHealthGate } from '../../app/core/update/health-gate.js';
import type { TrustedKeys } from '../../app/core/update/signing-keys.js';
import { UpdateAgent } from '../../app/core/update/update-agent.js';
import { bundleUrlFor, readUpdateSettings, type UpdateSettings } from '../../app/core/update/update-settings.js';
import { UpdateState } from '../../app/core/update/update-state.js';
import { StatusReporter } from '../../app/core/update/update-status-report.js';
import { decideTarget, retryDelayMs } from '../../app/core/update/update-target.js';
import { chooseBundleIn, mountSticks } from '../../app/core/update/usb-bundles.js';
import { makeBundle, makeDisk, makeImages, removeImages, sh, sha256Of, type Images } from './update-fixture.js';

let images: Images;
let bundles: Record<string, string>;
let trusted: TrustedKeys;
let server: Server;
let base: string;

before(async () => {
  images = makeImages();
  bundles = {
    '0.2.0': await makeBundle(images, 'thinkiosk-0.2.0-amd64.tkupdate', { version: '0.2.0' }),
    '0.3.0': await makeBundle(images, 'thinkiosk-0.3.0-amd64.tkupdate', { version: '0.3.0' }),
    '0.4.0-arm64': await makeBundle(images, 'thinkiosk-0.4.0-arm64.tkupdate', { version: '0.4.0', architecture: 'arm64' }),
    '0.1.0': await makeBundle(images, 'thinkiosk-0.1.0-amd64.tkupdate', { version: '0.1.0' }),
  };
  trusted = new Map([[images.key.keyId, images.key.publicKey]]);
  server = createServer((request, response) => {
    const match = /^\/b\/thinkiosk-(.+)\.tkupdate$/.exec(request.url ?? '');
    const key = match?.[1]?.replace(/-amd64$/, '') ?? '';
    const file = bundles[key] ?? bundles[match?.[1] ?? ''];
    if (!file) { response.writeHead(404).end('not found'); return; }
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  removeImages(images);
});

interface Box {
  dir: string;
  slots: BootSlots;
  state: UpdateState;
  health: string;
  reboots: number;
  statuses: UpdateStatus[];
  settings: UpdateSettings;
}

/** A kiosk's files: boot partition directory, kernel command line, settings partition, /run. */
function box(booted: 'a' | 'b', slotFile = formatSlotFile({ slot: 'a', trial: null, trialId: null }), tried = ''): Box {
  const dir = mkdtempSync(join(images.dir, 'box-'));
  for (const d of ['boot', 'data', 'run', 'health']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'boot', 'tk-slot.txt'), slotFile);
  writeFileSync(join(dir, 'boot', 'tk-tried.txt'), tried ? `tk_tried=${tried}\n` : formatEnvBlock([['tk_tried', '']]));
  writeFileSync(join(dir, 'cmdline'), `root=LABEL=TKROOT-${booted.toUpperCase()} thinkiosk.slot=${booted}\n`);
  const slots = new BootSlots({ dir: join(dir, 'boot'), cmdlineFile: join(dir, 'cmdline'), remount: async () => undefined });
  return { dir, slots, state: new UpdateState(join(dir, 'data'), join(dir, 'run', 'status.json')), health: join(dir, 'health'), reboots: 0, statuses: [], settings: readUpdateSettings(null, null) };
}

function reporter(b: Box, running: string): StatusReporter {
  const inner = new StatusReporter(b.state, running);
  return { report: (view, activity) => { const s = inner.report(view, activity); b.statuses.push(s); return s; } } as StatusReporter;
}

async function agentFor(b: Box, running: string, disk?: Awaited<ReturnType<typeof makeDisk>>): Promise<UpdateAgent> {
  const target = disk ?? await makeDisk(b.dir, 'disk.img');
  return new UpdateAgent({
    slots: b.slots, state: b.state, status: reporter(b, running), runningVersion: running, architecture: 'amd64',
    settings: async () => b.settings, trustedKeys: () => trusted,
    slotTarget: async (slot) => { assert.equal(slot, 'b'); return target.target; },
    download: (url) => got.stream(url, { retry: { limit: 0 } }),
    openFile: (file) => createReadStream(file),
    mountSticks: async () => ({ dirs: [], devices: [], failures: [], release: async () => undefined }),
    chooseBundle: (dirs) => chooseBundleIn(dirs, trusted, 'amd64'),
    reboot: async () => { b.reboots++; },
  });
}

test('update agent: a bundle from an address is written into slot B, labelled TKROOT-B, a trial requested, the box rebooted; status on the way', async () => {
  const b = box('a');
  const disk = await makeDisk(b.dir, 'disk.img');
  const untouched = disk.slotASha();
  const agent = await agentFor(b, '0.1.0', disk);
  assert.equal(await agent.handle({ source: 'url', url: `${base}/b/thinkiosk-0.2.0-amd64.tkupdate` }), 'rebooting');
  assert.equal(b.reboots, 1);
  const root = disk.target.partitions.root;
  sh('e2fsck', ['-fn', `${disk.file}?offset=${root.offset}`]);
  assert.match(sh('dumpe2fs', ['-h', `${disk.file}?offset=${root.offset}`]), /Filesystem volume name:\s+TKROOT-B/);
  assert.equal(disk.slotASha(), untouched, 'boot, slot A and settings untouched');
  const file = parseSlotFile(readFileSync(join(b.dir, 'boot', 'tk-slot.txt')));
  assert.equal(file.slot, 'a');
  assert.equal(file.trial, 'b');
  assert.deepEqual(b.state.pendingTrial() && { version: b.state.pendingTrial()!.version, slot: b.state.pendingTrial()!.slot, id: b.state.pendingTrial()!.trialId }, { version: '0.2.0', slot: 'b', id: file.trialId });
  const phases = [...new Set(b.statuses.map((s) => s.phase))];
  assert.deepEqual(phases, ['downloading', 'writing', 'verifying', 'rebooting']);
  const last = b.state.status()!;
  assert.equal(last.phase, 'rebooting');
  assert.equal(last.percent, 100);
  assert.equal(last.targetVersion, '0.2.0');
  assert.match(last.message!, /slot B: restarting to try it/);
});

test('update agent: an older bundle is refused unless the settings allow it; nothing is written to slot B', async () => {
  const b = box('a');
  const disk = await makeDisk(b.dir, 'disk.img');
  const before = sha256Of(disk.file);
  const agent = await agentFor(b, '0.3.0', disk);
  assert.equal(await agent.handle({ source: 'url', url: `${base}/b/thinkiosk-0.2.0-amd64.tkupdate` }), 'failed');
  assert.equal(b.reboots, 0);
  assert.equal(sha256Of(disk.file), before);
  const status = b.state.status()!;
  assert.equal(status.phase, 'failed');
  assert.match(status.message!, /older than the running 0\.3\.0\. A kiosk goes back to an older version only when its settings allow it \(update_allow_downgrade = yes/);
  assert.doesNotMatch(status.message!, /\bat .*\.js:\d+/);
  b.settings = readUpdateSettings('update_allow_downgrade = no\n', 'update_allow_downgrade = yes\n');
  assert.equal(b.settings.allowDowngrade, true, 'the fleet\'s file wins over thinkiosk.conf');
  assert.equal(await agent.handle({ source: 'url', url: `${base}/b/thinkiosk-0.2.0-amd64.tkupdate` }), 'rebooting');
});

test('update agent: nothing is installed while a trial runs (the other slot is the way back), nor outside an A/B image', async () => {
  const trial = box('b', formatSlotFile({ slot: 'a', trial: 'b', trialId: '0123456789abcdef' }));
  const agent = await agentFor(trial, '0.2.0');
  assert.equal(await agent.handle({ source: 'url', url: `${base}/b/thinkiosk-0.3.0-amd64.tkupdate` }), 'failed');
  assert.match(trial.state.status()!.message!, /A trial of a new version is running/);
  const plain = box('a');
  writeFileSync(join(plain.dir, 'cmdline'), 'root=/dev/sda2 quiet\n');
  assert.equal(await (await agentFor(plain, '0.2.0')).handle({ source: 'usb' }), 'failed');
  assert.match(plain.state.status()!.message!, /does not run the A\/B image/);
  assert.equal(trial.reboots + plain.reboots, 0);
});

test('update settings: the URL template takes {version} and {arch}; thinkiosk.conf values under the fleet\'s', () => {
  assert.equal(bundleUrlFor('https://img.example/{version}/thinkiosk-{version}-{arch}.tkupdate', '1.4.0-rc.1', 'arm64'), 'https://img.example/1.4.0-rc.1/thinkiosk-1.4.0-rc.1-arm64.tkupdate');
  assert.equal(bundleUrlFor('http://10.0.0.5:8080/latest.tkupdate', '1.0.0', 'amd64'), 'http://10.0.0.5:8080/latest.tkupdate');
  assert.throws(() => bundleUrlFor('images/{version}.tkupdate', '1.0.0', 'amd64'), /does not make an address/);
  assert.throws(() => bundleUrlFor('ftp://x.example/{version}', '1.0.0', 'amd64'), /not an http/);
  const s = readUpdateSettings('update_version = 1.2.0\nupdate_url = https://a.example/{version}.tkupdate\nupdate_trial_minutes = 7\nupdate_trial_minutes = 99\n', 'update_version = "1.3.0"\n');
  assert.deepEqual(s, { version: '1.3.0', url: 'https://a.example/{version}.tkupdate', allowDowngrade: false, trialMinutes: 7 });
  assert.equal(readUpdateSettings(null, null).trialMinutes, 5);
});

test('update target: once per version; a failed install backs off (15 min, doubling); a failed trial is not installed again by itself; no downgrade unless allowed', () => {
  const now = new Date('2026-12-06T12:00:00Z');
  const settings: UpdateSettings = { version: '0.3.0', url: 'https://x.example/{version}.tkupdate', allowDowngrade: false, trialMinutes: 5 };
  assert.deepEqual(decideTarget(settings, '0.2.0', null, now), { action: 'install', version: '0.3.0', urlTemplate: settings.url });
  assert.deepEqual(decideTarget(settings, '0.3.0', null, now), { action: 'none', message: null });
  assert.deepEqual(decideTarget({ ...settings, version: null }, '0.2.0', null, now), { action: 'none', message: null });
  const failedOnce = { version: '0.3.0', failures: 1, lastAt: '2026-12-06T11:50:00Z', lastMessage: 'server down', trialFailed: false };
  const d1 = decideTarget(settings, '0.2.0', failedOnce, now);
  assert.equal(d1.action, 'none');
  assert.match(d1.action === 'none' ? d1.message! : '', /failed once \(server down\); next try after 12:05 UTC/);
  assert.equal(decideTarget(settings, '0.2.0', failedOnce, new Date('2026-12-06T12:05:00Z')).action, 'install');
  assert.equal(retryDelayMs(3), 60 * 60_000);
  assert.equal(retryDelayMs(30), 6 * 60 * 60_000);
  const failedTrial = { ...failedOnce, failures: 0, trialFailed: true };
  assert.match(JSON.stringify(decideTarget(settings, '0.2.0', failedTrial, new Date('2027-01-01T00:00:00Z'))), /was tried and did not start well/);
  assert.equal(decideTarget({ ...settings, version: '0.4.0' }, '0.2.0', failedTrial, now).action, 'install', 'a new target starts afresh');
  assert.match(JSON.stringify(decideTarget({ ...settings, version: '0.1.0' }, '0.2.0', null, now)), /older than the running 0\.2\.0; older versions are installed only when update_allow_downgrade is yes/);
  assert.equal(decideTarget({ ...settings, version: '0.1.0', allowDowngrade: true }, '0.2.0', null, now).action, 'install');
  assert.match(JSON.stringify(decideTarget({ ...settings, url: null }, '0.2.0', null, now)), /no update_url/);
});

test('update agent: the settings target over HTTP: a missing bundle fails once and backs off (no retry storm); then installs when it is there', async () => {
  const b = box('a');
  const agent = await agentFor(b, '0.2.0');
  b.settings = { version: '0.3.0', url: `${base}/b/missing-{version}-{arch}.tkupdate`, allowDowngrade: false, trialMinutes: 5 };
  assert.equal(await agent.handle({ source: 'target' }), 'failed');
  assert.equal(b.state.targetAttempts()?.failures, 1);
  const status = b.state.status()!;
  assert.equal(status.phase, 'failed');
  assert.match(status.message!, /Installing version 0\.3\.0 failed once .*next try after/);
  const requests = b.statuses.length;
  assert.equal(await agent.handle({ source: 'target' }), 'nothing', 'backing off: not tried again at once');
  assert.equal(b.state.targetAttempts()?.failures, 1);
  assert.ok(b.statuses.length <= requests + 1);
  b.settings = { ...b.settings, url: `${base}/b/thinkiosk-{version}-{arch}.tkupdate` };
  b.state.setTargetAttempts({ ...b.state.targetAttempts()!, lastAt: new Date(Date.now() - 16 * 60_000).toISOString() });
  assert.equal(await agent.handle({ source: 'target' }), 'rebooting');
  assert.equal(b.state.pendingTrial()?.version, '0.3.0');
});

function writeMarkers(dir: string, controller: string | null, controllerOk: boolean): void {
  writeFileSync(join(dir, 'ready'), JSON.stringify({ at: new Date().toISOString(), controller }));
  if (controllerOk && controller) writeFileSync(join(dir, 'controller-ok'), JSON.stringify({ at: new Date().toISOString(), controller }));
}

const TRIAL = formatSlotFile({ slot: 'a', trial: 'b', trialId: '0123456789abcdef' });

test('health gate: a trial boot that becomes ready and reaches its controller in time is committed', async () => {
  const b = box('b', TRIAL, '0123456789abcdef');
  b.state.setPendingTrial({ version: '0.3.0', slot: 'b', trialId: '0123456789abcdef', source: 'test', requestedAt: new Date().toISOString() });
  assert.equal(classifyBoot(await b.slots.read()), 'trial');
  setTimeout(() => writeMarkers(b.health, 'https://c.example', false), 150);
  setTimeout(() => writeMarkers(b.health, 'https://c.example', true), 300);
  const result = await runHealthGate({ slots: b.slots, state: b.state, status: reporter(b, '0.3.0'), runningVersion: '0.3.0', settings: async () => b.settings,
    health: () => readHealth(b.health), reboot: async () => { b.reboots++; }, pollMs: 50 });
  assert.equal(result, 'committed');
  assert.deepEqual(parseSlotFile(readFileSync(join(b.dir, 'boot', 'tk-slot.txt'))), { slot: 'b', trial: null, trialId: null });
  assert.equal(b.reboots, 0);
  const trial = b.state.lastTrial()!;
  assert.equal(trial.outcome, 'committed');
  assert.equal(trial.version, '0.3.0');
  assert.match(trial.detail, /ready and reached its controller/);
  assert.equal(b.statuses[0]!.phase, 'trial');
  assert.equal(b.state.status()!.committedSlot, 'b');
  assert.equal(b.state.pendingTrial(), null);
});

test('health gate: without a controller configured, ready alone counts', async () => {
  const b = box('b', TRIAL, '0123456789abcdef');
  writeMarkers(b.health, null, false);
  const result = await runHealthGate({ slots: b.slots, state: b.state, status: reporter(b, '0.3.0'), runningVersion: '0.3.0', settings: async () => b.settings,
    health: () => readHealth(b.health), reboot: async () => { b.reboots++; }, pollMs: 50 });
  assert.equal(result, 'committed');
  assert.match(b.state.lastTrial()!.detail, /no controller is configured/);
});

test('health gate: a trial whose kiosk never reaches its controller before the deadline is rolled back and the box rebooted', async () => {
  const b = box('b', TRIAL, '0123456789abcdef');
  writeMarkers(b.health, 'https://c.example', false);
  b.settings = { ...b.settings, trialMinutes: 0.005 }; // 300 ms
  b.state.setTargetAttempts({ version: '0.3.0', failures: 0, lastAt: new Date().toISOString(), lastMessage: null, trialFailed: false });
  const started = Date.now();
  const result = await runHealthGate({ slots: b.slots, state: b.state, status: reporter(b, '0.3.0'), runningVersion: '0.3.0', settings: async () => b.settings,
    health: () => readHealth(b.health), reboot: async () => { b.reboots++; }, pollMs: 50 });
  assert.equal(result, 'rolled-back');
  assert.ok(Date.now() - started >= 290, 'waited until the deadline');
  assert.equal(b.reboots, 1);
  assert.deepEqual(parseSlotFile(readFileSync(join(b.dir, 'boot', 'tk-slot.txt'))), { slot: 'a', trial: null, trialId: null });
  const trial = b.state.lastTrial()!;
  assert.equal(trial.outcome, 'rolled-back');
  assert.match(trial.detail, /the kiosk did not reach its controller; the kiosk went back to slot A/);
  assert.equal(b.state.targetAttempts()?.trialFailed, true, 'not installed again by itself');
  assert.equal(b.state.status()!.phase, 'rebooting');
});

test('health gate: a normal boot on the old slot that finds its trial tried records did-not-finish and clears the trial', async () => {
  const b = box('a', TRIAL, '0123456789abcdef');
  b.state.setPendingTrial({ version: '0.3.0', slot: 'b', trialId: '0123456789abcdef', source: 'test', requestedAt: new Date().toISOString() });
  assert.equal(classifyBoot(await b.slots.read()), 'did-not-finish');
  const result = await runHealthGate({ slots: b.slots, state: b.state, status: reporter(b, '0.2.0'), runningVersion: '0.2.0', settings: async () => b.settings,
    health: () => readHealth(b.health), reboot: async () => { b.reboots++; } });
  assert.equal(result, 'did-not-finish');
  assert.equal(b.reboots, 0);
  assert.deepEqual(parseSlotFile(readFileSync(join(b.dir, 'boot', 'tk-slot.txt'))), { slot: 'a', trial: null, trialId: null });
  assert.deepEqual({ ...b.state.lastTrial()!, at: undefined, detail: undefined }, { version: '0.3.0', slot: 'b', outcome: 'did-not-finish', at: undefined, detail: undefined });
  const status = b.state.status()!;
  assert.equal(status.lastTrial?.outcome, 'did-not-finish');
  assert.equal(status.phase, 'idle');
  // A trial requested but not yet tried (no reboot yet) is left alone.
  const untried = box('a', TRIAL, 'ffffffffffffffff');
  assert.equal(classifyBoot(await untried.slots.read()), 'normal');
});

test('USB stick: the newest good bundle for this kiosk is chosen; the others are named with why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-stick-'));
  try {
    for (const [name, file] of [['a.tkupdate', bundles['0.2.0']!], ['b.tkupdate', bundles['0.3.0']!], ['c.TKUPDATE', bundles['0.4.0-arm64']!]] as const) {
      writeFileSync(join(dir, name), readFileSync(file));
    }
    writeFileSync(join(dir, 'junk.tkupdate'), 'not a bundle');
    const other = generateKeyPairSync('ed25519').publicKey;
    const choice = await chooseBundleIn([dir], trusted, 'amd64');
    assert.equal(choice?.manifest.version, '0.3.0');
    assert.equal(choice?.file, join(dir, 'b.tkupdate'));
    const why = Object.fromEntries(choice!.passedOver.map((p) => [p.file.split('/').at(-1), p.why]));
    assert.match(why['a.tkupdate']!, /older than 0\.3\.0/);
    assert.match(why['c.TKUPDATE']!, /for arm64, this kiosk is amd64/);
    assert.match(why['junk.tkupdate']!, /not a thinkiosk update bundle/);
    assert.equal(await chooseBundleIn([dir], new Map([[keyIdOf(other), other]]), 'amd64'), null, 'bundles of another build machine are none');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('USB stick: lsblk\'s devices: a second disk (QEMU virtio, no RM/TRAN) counts, the kiosk\'s own disk never does', () => {
  const devices = parseLsblk(JSON.stringify({ blockdevices: [
    { name: '/dev/vda', type: 'disk', rm: false, tran: null, fstype: null, label: null, partlabel: null, mountpoint: null, pkname: null },
    { name: '/dev/vda1', type: 'part', rm: false, tran: null, fstype: 'vfat', label: 'TKBOOT', partlabel: null, mountpoint: '/boot/firmware', pkname: '/dev/vda' },
    { name: '/dev/vda2', type: 'part', rm: false, tran: null, fstype: 'ext4', label: 'TKROOT-A', partlabel: null, mountpoint: null, pkname: '/dev/vda' },
    { name: '/dev/vda3', type: 'part', rm: false, tran: null, fstype: null, label: null, partlabel: null, mountpoint: null, pkname: '/dev/vda' },
    { name: '/dev/vda4', type: 'part', rm: false, tran: null, fstype: 'ext4', label: 'TKDATA', partlabel: null, mountpoint: '/var/lib/thinkiosk', pkname: '/dev/vda' },
    { name: '/dev/vdb', type: 'disk', rm: false, tran: null, fstype: 'vfat', label: 'STICK', partlabel: null, mountpoint: null, pkname: null },
    { name: '/dev/sda', type: 'disk', rm: true, tran: 'usb', fstype: null, label: null, partlabel: null, mountpoint: null, pkname: null },
    { name: '/dev/sda1', type: 'part', rm: true, tran: 'usb', fstype: 'exfat', label: 'USB', partlabel: null, mountpoint: null, pkname: '/dev/sda' },
    { name: '/dev/sda2', type: 'part', rm: true, tran: 'usb', fstype: 'swap', label: null, partlabel: null, mountpoint: null, pkname: '/dev/sda' },
  ] }));
  assert.deepEqual(stickFileSystems(devices).map((d) => d.name), ['/dev/vdb', '/dev/sda1']);
  assert.throws(() => parseLsblk('{"blockdevices":[{"type":"disk"}]}'), /lsblk: unexpected output/);
});

const canLoop = process.getuid?.() === 0 && (() => { try { execFileSync('losetup', ['-f'], { stdio: 'pipe' }); return true; } catch { return false; } })();

// The stick is ext4 here: this machine's kernel (a container's) has no vfat module to mount FAT with.
test('USB stick: a stick is mounted read-only, nosuid, nodev, noexec, its newest bundle installed, and unmounted after', { skip: canLoop ? false : 'needs root and loop devices' }, async () => {
  const b = box('a');
  const stick = join(b.dir, 'stick.ext4');
  const files = join(b.dir, 'stick-files');
  mkdirSync(files);
  writeFileSync(join(files, 'old.tkupdate'), readFileSync(bundles['0.2.0']!));
  writeFileSync(join(files, 'new.tkupdate'), readFileSync(bundles['0.3.0']!));
  sh('mkfs.ext4', ['-q', '-F', '-L', 'STICK', '-d', files, stick, '40M']);
  const loop = sh('losetup', ['--show', '-f', stick]).trim();
  try {
    const disk = await makeDisk(b.dir, 'disk.img');
    const mountedOptions: string[] = [];
    const agent = new UpdateAgent({
      slots: b.slots, state: b.state, status: reporter(b, '0.1.0'), runningVersion: '0.1.0', architecture: 'amd64',
      settings: async () => b.settings, trustedKeys: () => trusted, slotTarget: async () => disk.target,
      download: () => { throw new Error('no download here'); }, openFile: (file) => createReadStream(file),
      mountSticks: async () => {
        const sticks = await mountSticks(join(b.dir, 'usb'), [{ name: loop, type: 'disk', fstype: 'ext4', label: 'STICK', mountpoint: null, pkname: null }]);
        const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.startsWith(`${loop} `));
        mountedOptions.push(...mounts.map((l) => l.split(' ')[3]!));
        return sticks;
      },
      chooseBundle: (dirs) => chooseBundleIn(dirs, trusted, 'amd64'),
      reboot: async () => { b.reboots++; },
    });
    const result = await agent.handle({ source: 'usb' });
    assert.equal(result, 'rebooting', b.state.status()?.message ?? '');
    assert.equal(mountedOptions.length, 1);
    for (const option of ['ro', 'nosuid', 'nodev', 'noexec']) assert.ok(mountedOptions[0]!.split(',').includes(option), `${option} in ${mountedOptions[0]}`);
    assert.equal(b.state.pendingTrial()?.version, '0.3.0');
    assert.match(b.state.status()!.source!, /USB stick: new\.tkupdate/);
    assert.ok(!readFileSync('/proc/mounts', 'utf8').includes(`${loop} `), 'unmounted after');
  } finally {
    sh('losetup', ['-d', loop]);
  }
});
