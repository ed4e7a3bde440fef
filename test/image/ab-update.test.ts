/**
 * Safe updates on the PC image, booted in QEMU with UEFI (OVMF → the image's GRUB → a slot), as a
 * box lives through them (issue 12, image/ab-slots.md). The image's own update service does the
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
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { REPO, Vm, WORK, buildImage, envBlock, partitionOffset, putBootFile, readBootFile, scratchCopy } from './appliance.js';

const PORT = 16380;
const DIR = join(WORK, 'test-boot', 'ab-update');
const KEY = process.env.THINKIOSK_UPDATE_KEY ?? join(WORK, 'keys', 'update-signing.pem');
const READY = /THINKIOSK-KIOSK-READY page loaded/;
const BOOT_SECONDS = 900;
const BROKEN = 'thinkiosk-test: this version\'s kiosk does not start (a broken update, on purpose)';

function nextVersions(version: string): [string, string] {
  const [major, minor, patch] = version.split(/[.-]/).map(Number);
  return [`${major}.${minor}.${patch! + 1}`, `${major}.${minor}.${patch! + 2}`];
}

/** Slot A's ext4 file system out of the image (its own size, not the partition's). */
function extractRoot(img: string, out: string): void {
  const offset = partitionOffset(img, 2);
  const header = execFileSync('dumpe2fs', ['-h', `${img}?offset=${offset}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const blocks = Number(/^Block count:\s+(\d+)/m.exec(header)?.[1]);
  const blockSize = Number(/^Block size:\s+(\d+)/m.exec(header)?.[1]);
  execFileSync('dd', [`if=${img}`, `of=${out}`, 'bs=4M', 'iflag=skip_bytes,count_bytes', `skip=${offset}`, `count=${blocks * blockSize}`, 'conv=sparse', 'status=none']);
}

/** debugfs -w commands on a root file system image. */
function debugfsWrite(root: string, commands: string[]): void {
  const script = `${root}.debugfs`;
  writeFileSync(script, `${commands.join('\n')}\n`);
  execFileSync('debugfs', ['-w', '-f', script, root], { stdio: 'ignore' });
  rmSync(script);
}

/** The image's root as version `version` (its release file says so), optionally with a kiosk that never starts. */
function rootAs(source: string, version: string, arch: string, broken: boolean): string {
  const root = join(DIR, `root-${version}.ext4`);
  execFileSync('cp', ['--sparse=always', source, root]);
  const release = join(DIR, `release-${version}`);
  writeFileSync(release, readFileSync(join(DIR, 'release')).toString().replace(/^thinkiosk \S+/, `thinkiosk ${version}`));
  const commands = ['rm /etc/thinkiosk-release', `write ${release} /etc/thinkiosk-release`];
  if (broken) {
    const session = join(DIR, 'kiosk-session-broken');
    writeFileSync(session, `#!/bin/sh\necho "${BROKEN}" >/dev/console\nexit 1\n`);
    commands.push('rm /usr/lib/thinkiosk/kiosk-session', `write ${session} /usr/lib/thinkiosk/kiosk-session`, 'set_inode_field /usr/lib/thinkiosk/kiosk-session mode 0100755');
  }
  debugfsWrite(root, commands);
  assert.match(execFileSync('debugfs', ['-R', 'cat /etc/thinkiosk-release', root], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), new RegExp(`^thinkiosk ${version.replace(/\./g, '\\.')} ${arch}`));
  return root;
}

function writeBundle(root: string, version: string, arch: string): string {
  const out = join(DIR, `thinkiosk-${version}-${arch}.tkupdate`);
  execFileSync('node', [join(REPO, 'dist/app/core/update/bundle-cli.js'), 'write', '--key', KEY, '--root', root, '--version', version,
    '--build', `ab-update-test-${version}`, '--arch', arch, '--compression', 'gzip', '--out', out], { stdio: 'ignore' });
  return out;
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

async function slotFile(disk: string): Promise<Map<string, string>> {
  return envBlock(await readBootFile(disk, 'tk-slot.txt'));
}

/** A file of the settings partition (4), read with debugfs once the machine is off. */
function settingsFile(disk: string, path: string): string {
  return execFileSync('debugfs', ['-R', `cat ${path}`, `${disk}?offset=${partitionOffset(disk, 4)}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

test('PC image under UEFI: an update is written while the kiosk runs (a pulled plug mid-write changes nothing), tried and committed; a broken one rolls back by itself', { timeout: 120 * 60_000 }, async () => {
  const built = await buildImage('amd64');
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const [good, broken] = nextVersions(version);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const disk = scratchCopy(built.img, 'ab-update.img', 512);
  extractRoot(built.img, join(DIR, 'root-image.ext4'));
  writeFileSync(join(DIR, 'release'), execFileSync('debugfs', ['-R', 'cat /etc/thinkiosk-release', join(DIR, 'root-image.ext4')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  writeBundle(rootAs(join(DIR, 'root-image.ext4'), good, 'amd64', false), good, 'amd64');
  writeBundle(rootAs(join(DIR, 'root-image.ext4'), broken, 'amd64', true), broken, 'amd64');
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
    await vm!.waitExit(300);
    const requested = await slotFile(disk);
    assert.equal(requested.get('tk_slot'), 'a');
    assert.equal(requested.get('tk_trial'), 'b', 'the trial of slot B is requested');
    assert.match(requested.get('tk_trial_id') ?? '', /^[0-9a-f]{16}$/);

    // 2. The trial boot of B: ready, committed.
    boot();
    await vm!.waitFor(/thinkiosk: trying slot b once/, 120);
    assert.match(vm!.console(), /thinkiosk\.slot=b/, 'the kernel was started from slot B');
    await vm!.waitFor(READY, BOOT_SECONDS);
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
    await vm!.waitFor(new RegExp(BROKEN.replace(/[()']/g, '.')), BOOT_SECONDS);
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
  }
});
