/**
 * A/B updates on the PC image, booted in QEMU with UEFI (OVMF → the image's GRUB → a slot)
 * (issue 12, image/ab-slots.md). The slots are written from this machine with the kiosk's own
 * installer (bundle-cli install: install.ts, the code the box runs) and the trial is requested in
 * tk-slot.txt the way the box's update service does (boot-slots.ts); everything from the boot on is
 * the image's own: GRUB's one-shot trial, the health gate, the roll-back. The box writing the slot
 * itself, downloading while its kiosk runs, is `make bench` (bench/update-bench.ts): in emulation
 * that install alone takes a quarter of an hour.
 *
 *   1. The plug is pulled while slot B is written: the box boots slot A as before.
 *   2. Version N+1 in slot B, trial requested: GRUB tries B once, the kiosk gets ready, the gate
 *      commits B.
 *   3. Version N+2, whose kiosk never starts, in slot A, trial requested: the gate gives up after
 *      update_trial_minutes and restarts; the box boots B by itself; the roll-back is recorded and
 *      the settings partition is what it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatSlotFile, newTrialId } from '../../app/core/update/boot-slots.js';
import { REPO, Vm, WORK, buildImage, envBlock, partitionOffset, putBootFile, readBootFile, scratchCopy } from './appliance.js';
import { KEY, extractRoot, nextVersions, rootAs, settingsFile, slotFile, writeBundle } from './update-bundles.js';

const DIR = join(WORK, 'test-boot', 'ab-update');
const READY = /THINKIOSK-KIOSK-READY page loaded/;
const BOOT_SECONDS = 900;
const CLI = join(REPO, 'dist/app/core/update/bundle-cli.js');

/** bundle-cli install into slot `slot` of the disk image; with `cutAt`, killed once that share of the root is written. */
async function install(disk: string, bundle: string, slot: 'a' | 'b', current: string, cutAt?: number): Promise<string> {
  const child = spawn('node', [CLI, 'install', '--bundle', bundle, '--disk', disk, '--root', slot === 'a' ? '2' : '3', '--slot', slot,
    '--keys', join(DIR, 'keys'), '--current', current], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const writing = [...out.matchAll(/install: writing root: ([\d.]+) MiB of ([\d.]+) MiB/g)].pop();
    // bytesTotal counts writing and reading back: half of it is the root written.
    if (cutAt !== undefined && writing && Number(writing[1]) >= Number(writing[2]) * cutAt / 2) child.kill('SIGKILL');
  });
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await exited;
  if (cutAt === undefined) assert.equal(code, 0, `bundle-cli install failed:\n${out}`);
  else assert.notEqual(code, 0, `the install was to be cut, but it ended by itself:\n${out}`);
  return out;
}

/** What the box's update service writes after an install: tk-slot.txt asking for a trial of `slot`. */
async function requestTrial(disk: string, committed: 'a' | 'b', slot: 'a' | 'b'): Promise<string> {
  const trialId = newTrialId();
  const file = join(DIR, 'tk-slot.txt');
  writeFileSync(file, formatSlotFile({ slot: committed, trial: slot, trialId }));
  execFileSync('mcopy', ['-o', '-i', `${disk}@@4M`, file, '::/tk-slot.txt']);
  return trialId;
}

function partitionStartsZeroed(disk: string, n: number): boolean {
  const head = Buffer.alloc(1 << 20);
  const fd = openSync(disk, 'r');
  try { readSync(fd, head, 0, head.length, partitionOffset(disk, n)); } finally { closeSync(fd); }
  return head.every((byte) => byte === 0);
}

test('PC image under UEFI: a pulled plug while slot B is written leaves the box on A; B tried once and committed by the health gate; a broken version rolls back by itself, settings kept', { timeout: 90 * 60_000 }, async () => {
  const built = await buildImage('amd64');
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const [good, broken] = nextVersions(version);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(join(DIR, 'keys'), { recursive: true });
  execFileSync('node', [CLI, 'key', '--key', KEY, '--public-dir', join(DIR, 'keys')], { stdio: 'ignore' });
  const disk = scratchCopy(built.img, 'ab-update.img', 512);
  extractRoot(built.img, join(DIR, 'root-image.ext4'));
  const goodBundle = writeBundle(DIR, rootAs(DIR, join(DIR, 'root-image.ext4'), good, 'amd64', false), good, 'amd64');
  const brokenBundle = writeBundle(DIR, rootAs(DIR, join(DIR, 'root-image.ext4'), broken, 'amd64', true), broken, 'amd64');
  for (const file of [`root-${good}.ext4`, `root-${broken}.ext4`, 'root-image.ext4']) rmSync(join(DIR, file));
  await putBootFile(disk, 'thinkiosk.conf', '# the A/B update test: a short health gate\nupdate_trial_minutes = 1\n');
  let vm: Vm | undefined;
  const boot = (): Vm => (vm = new Vm('amd64', disk, { probe: false }));
  try {
    // 1. A write into B cut in the middle: B's start stays zeroed, no trial, A boots.
    await install(disk, goodBundle, 'b', version, 0.4);
    assert.ok(partitionStartsZeroed(disk, 3), 'a slot cut while written holds no file system anything could boot');
    assert.equal((await slotFile(disk)).get('tk_trial') ?? '', '');
    boot();
    await vm!.waitFor(/thinkiosk: booting slot a/, 120);
    await vm!.waitFor(READY, BOOT_SECONDS);
    await vm!.kill();

    // 2. B written whole, a trial requested: tried once, ready, committed.
    const log = await install(disk, goodBundle, 'b', version);
    assert.match(log, new RegExp(`installed into slot B`));
    const trialId = await requestTrial(disk, 'a', 'b');
    boot();
    await vm!.waitFor(/thinkiosk: trying slot b once/, 120);
    await vm!.waitFor(/Command line: .*thinkiosk\.slot=b/, 120); // the kernel was started from slot B
    await vm!.waitFor(READY, BOOT_SECONDS);
    await vm!.waitFor(new RegExp(`trial of ${good.replace(/\./g, '\\.')} in slot b committed`), 600);
    await new Promise((done) => setTimeout(done, 8000)); // the settings partition's commit interval (5 s)
    await vm!.kill();
    const committed = await slotFile(disk);
    assert.equal(committed.get('tk_slot'), 'b', 'slot B is now the committed slot');
    assert.equal(committed.get('tk_trial') ?? '', '');
    assert.equal(envBlock(await readBootFile(disk, 'tk-tried.txt')).get('tk_tried'), trialId, 'GRUB recorded the trial it started');
    const settingsJson = settingsFile(disk, '/settings/settings.json');
    assert.ok(settingsJson.length > 0, 'the kiosk\'s settings are on the settings partition');

    // 3. A broken version in A: tried, rolled back by the gate, B boots by itself.
    await install(disk, brokenBundle, 'a', good);
    await requestTrial(disk, 'b', 'a');
    boot();
    await vm!.waitFor(/thinkiosk: trying slot a once/, 120);
    const gave = await vm!.waitFor(new RegExp(`trial of ${broken.replace(/\./g, '\\.')} in slot a failed \\(([^)]*)\\); rebooting into slot b`), 600);
    assert.doesNotMatch(vm!.console(), READY, 'the broken version never became ready');
    await vm!.waitExit(300);
    const back = await slotFile(disk);
    assert.equal(back.get('tk_slot'), 'b', `the committed slot stays B (the gate saw: ${gave[1]})`);
    assert.equal(back.get('tk_trial') ?? '', '', 'no trial is pending after the roll-back');

    boot();
    await vm!.waitFor(/thinkiosk: booting slot b/, 120);
    await vm!.waitFor(READY, BOOT_SECONDS);
    await new Promise((done) => setTimeout(done, 8000));
    await vm!.kill();
    const lastTrial = JSON.parse(settingsFile(disk, '/update/last-trial.json')) as { version: string; outcome: string };
    assert.equal(lastTrial.version, broken);
    assert.equal(lastTrial.outcome, 'rolled-back', 'the roll-back is recorded for the next check-in');
    assert.equal(settingsFile(disk, '/settings/settings.json'), settingsJson, 'the settings survived the broken version\'s trial and roll-back');
  } finally {
    await vm?.kill();
  }
});
