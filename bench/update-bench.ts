/**
 * make bench: safe updates on the PC image, booted in QEMU with UEFI (OVMF → the image's GRUB → a
 * slot), the whole way a box lives through them, the box doing every step itself (issue 12,
 * image/ab-slots.md). Slow under TCG: the box decompresses and hashes a 1.4 GiB root in emulation
 * (227 s per install on a quiet machine here, far more on a loaded one), hence a bench, not a test; test/image/ab-update.test.ts
 * runs the same boots with the slots written from this machine. Prints the figures the closing note
 * needs: the install's time in the box, and a trial boot's time to ready against a normal boot's. The image's own update service does the
 * work; the test only serves bundles over HTTP, edits thinkiosk.conf on the boot partition between
 * boots (as an admin would) and restarts the machine when it reboots (qemu-boot.sh runs -no-reboot).
 *
 *   1. thinkiosk.conf names version N+1: the box downloads and writes slot B while the kiosk runs;
 *      the plug is pulled in the middle of writing. It boots slot A again, nothing of the trial
 *      pending, and writes B again.
 *   2. Trial boot of B: the kiosk becomes ready, the health gate commits B.
 *   3. thinkiosk.conf names N+2, whose kiosk never starts (a broken build, made so on purpose): the
 *      box writes slot A, tries it, the gate gives up after update_trial_minutes and goes back;
 *      the next boot is slot B (N+1) again, by itself, and the settings partition is untouched.
 *
 * The bundles are made here from the image's own root with the build's signing key (the same key
 * the image trusts), versions bumped, the second one's kiosk replaced by a program that exits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { REPO, Vm, WORK, buildImage, envBlock, putBootFile, readBootFile, scratchCopy } from '../test/image/appliance.js';
import { extractRoot, nextVersions, rootAs, settingsFile, slotFile, writeBundle } from '../test/image/update-bundles.js';

const PORT = 16380;
const DIR = join(WORK, 'test-boot', 'update-bench');
const READY = /THINKIOSK-KIOSK-READY page loaded/;
const BOOT_SECONDS = 900;

/** Seconds between two lines of a boot's console, by the kernel's own time stamps. */
function consoleSeconds(text: string, from: RegExp, to: RegExp): number | null {
  const stamp = (pattern: RegExp): number | null => {
    const line = text.split('\n').find((l) => pattern.test(l));
    const match = line ? /^\[\s*(\d+\.\d+)\]/.exec(line) : null;
    return match ? Number(match[1]) : null;
  };
  const a = stamp(from), b = stamp(to);
  return a === null || b === null ? null : b - a;
}

const figures: string[] = [];
function figure(line: string): void {
  figures.push(line);
  process.stderr.write(`[update-bench] ${line}\n`);
}

/** The bundles' web server on 127.0.0.1 (the guest reaches it at 10.0.2.100), counting what it served. */
function serve(dir: string): { server: Server; served: string[] } {
  const served: string[] = [];
  const server = createServer((request, response) => {
    const name = (request.url ?? '/').slice(1);
    const file = join(dir, name);
    if (!/^[\w.-]+\.tkupdate$/.test(name) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      response.writeHead(404).end('not here\n');
      return;
    }
    served.push(name);
    response.writeHead(200, { 'content-length': statSync(file).size, 'content-type': 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  server.listen(PORT, '127.0.0.1');
  return { server, served };
}

function settingsFor(version: string): string {
  return [
    '# thinkiosk.conf of the A/B update test: which version this box should run, and where it is.',
    `update_version = ${version}`,
    `update_url = http://10.0.2.100:${PORT}/thinkiosk-{version}-{arch}.tkupdate`,
    'update_trial_minutes = 1',
    '',
  ].join('\n');
}

test('PC image under UEFI: an update is written while the kiosk runs (a pulled plug mid-write changes nothing), tried and committed; a broken one rolls back by itself', { timeout: 120 * 60_000 }, async () => {
  const built = await buildImage('amd64');
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const [good, broken] = nextVersions(version);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const disk = scratchCopy(built.img, 'update-bench.img', 512);
  extractRoot(built.img, join(DIR, 'root-image.ext4'));
    writeBundle(DIR, rootAs(DIR, join(DIR, 'root-image.ext4'), good, 'amd64', false), good, 'amd64');
  writeBundle(DIR, rootAs(DIR, join(DIR, 'root-image.ext4'), broken, 'amd64', true), broken, 'amd64');
  for (const v of [good, broken]) rmSync(join(DIR, `root-${v}.ext4`));
  const { server, served } = serve(DIR);
  await putBootFile(disk, 'thinkiosk.conf', settingsFor(good));
  let vm: Vm | undefined;
  const boot = (): Vm => (vm = new Vm('amd64', disk, { probe: false, serve: [PORT] }));
  try {
    // 1. Slot A; the update is written in the background; the plug is pulled half-way.
    boot();
    await vm!.waitFor(/thinkiosk: booting slot a/, 120);
    // The update starts at boot, beside the kiosk: cut while it is writing, whatever the kiosk does.
    await vm!.waitFor(/writing [3-6]0% /, BOOT_SECONDS);
    await vm!.kill();
    assert.equal((await slotFile(disk)).get('tk_trial') ?? '', '', 'no trial is requested for a slot that was not finished');

    boot();
    await vm!.waitFor(/thinkiosk: booting slot a/, 120);
    await vm!.waitFor(READY, BOOT_SECONDS);
    await vm!.waitFor(new RegExp(`installed ${good.replace(/\./g, '\\.')} into slot b`), BOOT_SECONDS);
    const installSeconds = consoleSeconds(vm!.console(), /thinkiosk-update: downloading 0%/, /thinkiosk-update: installed /);
    figure(`install in the box (download, write, read back; TCG, 2 vCPUs, beside the starting kiosk): ${installSeconds?.toFixed(0)} s for ${Math.round(statSync(join(DIR, `thinkiosk-${good}-amd64.tkupdate`)).size / 1048576)} MiB of bundle`);
    await vm!.waitExit(300);
    const requested = await slotFile(disk);
    assert.equal(requested.get('tk_slot'), 'a');
    assert.equal(requested.get('tk_trial'), 'b', 'the trial of slot B is requested');
    assert.match(requested.get('tk_trial_id') ?? '', /^[0-9a-f]{16}$/);

    // 2. The trial boot of B: ready, committed.
    boot();
    await vm!.waitFor(/thinkiosk: trying slot b once/, 120);
    await vm!.waitFor(/Command line: .*thinkiosk\.slot=b/, 120); // the kernel was started from slot B
    await vm!.waitFor(READY, BOOT_SECONDS);
    const trialReady = vm!.secondsSinceStart();
    await vm!.waitFor(new RegExp(`trial of ${good.replace(/\./g, '\\.')} in slot b committed`), 600);
    await new Promise((done) => setTimeout(done, 8000)); // the settings partition's commit interval (5 s)
    await vm!.kill();
    const settingsJson = settingsFile(disk, '/settings/settings.json');
    assert.ok(settingsJson.length > 0, 'the kiosk\'s settings are on the settings partition');
    const committed = await slotFile(disk);
    assert.equal(committed.get('tk_slot'), 'b', 'slot B is now the committed slot');
    assert.equal(committed.get('tk_trial') ?? '', '');
    assert.equal(envBlock(await readBootFile(disk, 'tk-tried.txt')).get('tk_tried'), requested.get('tk_trial_id'), 'GRUB recorded the trial it started');

    // 3. A broken version: written into A, tried, rolled back by the health gate, B boots again.
    await putBootFile(disk, 'thinkiosk.conf', settingsFor(broken));
    boot();
    await vm!.waitFor(/thinkiosk: booting slot b/, 120);
    await vm!.waitFor(READY, BOOT_SECONDS);
    await vm!.waitFor(new RegExp(`installed ${broken.replace(/\./g, '\\.')} into slot a`), BOOT_SECONDS);
    await vm!.waitExit(300);

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
    await vm!.waitFor(/thinkiosk\.slot=b/, 60);
    await vm!.waitFor(READY, BOOT_SECONDS);
    const normalReady = vm!.secondsSinceStart();
    figure(`power-on → kiosk ready: trial boot ${trialReady.toFixed(0)} s, normal boot of the same slot ${normalReady.toFixed(0)} s, ratio ${(trialReady / normalReady).toFixed(2)}`);
    await new Promise((done) => setTimeout(done, 8000));
    await vm!.kill();
    const lastTrial = JSON.parse(settingsFile(disk, '/update/last-trial.json')) as { version: string; outcome: string };
    assert.equal(lastTrial.version, broken);
    assert.equal(lastTrial.outcome, 'rolled-back', 'the roll-back is recorded for the next check-in');
    assert.equal(settingsFile(disk, '/settings/settings.json'), settingsJson, 'the settings survived the broken version\'s install, trial and roll-back');
    assert.ok(served.filter((name) => name.includes(good)).length >= 2, `the good bundle was downloaded again after the pulled plug (served: ${served.join(', ')})`);
  } finally {
    await vm?.kill();
    server.close();
    process.stdout.write(`${['update-bench:', ...figures].join('\n  ')}\n`);
  }
});
