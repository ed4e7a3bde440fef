/**
 * Update bundles for the A/B tests and the update bench, made from a built image's own root with the
 * build's signing key (the key the image trusts): versions bumped in /etc/thinkiosk-release, and on
 * request a kiosk that never starts (a broken build, on purpose).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, WORK, envBlock, partitionOffset, readBootFile } from './appliance.js';

export const KEY = process.env.THINKIOSK_UPDATE_KEY ?? join(WORK, 'keys', 'update-signing.pem');
export const BROKEN = 'thinkiosk-test: this version\'s kiosk does not start (a broken update, on purpose)';

export function debugfsCat(fs: string, path: string): string {
  return execFileSync('debugfs', ['-R', `cat ${path}`, fs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

/** tk-slot.txt of a disk image's boot partition, as name → value. */
export async function slotFile(disk: string): Promise<Map<string, string>> {
  return envBlock(await readBootFile(disk, 'tk-slot.txt'));
}

/** A file of the settings partition (4), read with debugfs once the machine is off. */
export const settingsFile = (disk: string, path: string): string => debugfsCat(`${disk}?offset=${partitionOffset(disk, 4)}`, path);

export function nextVersions(version: string): [string, string] {
  const [major, minor, patch] = version.split(/[.-]/).map(Number);
  return [`${major}.${minor}.${patch! + 1}`, `${major}.${minor}.${patch! + 2}`];
}

/** Slot A's ext4 file system out of the image (its own size, not the partition's). */
export function extractRoot(img: string, out: string): void {
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
export function rootAs(dir: string, source: string, version: string, arch: string, broken: boolean): string {
  const root = join(dir, `root-${version}.ext4`);
  execFileSync('cp', ['--sparse=always', source, root]);
  const release = join(dir, `release-${version}`);
  writeFileSync(release, debugfsCat(source, '/etc/thinkiosk-release').replace(/^thinkiosk \S+/, `thinkiosk ${version}`));
  const commands = ['rm /etc/thinkiosk-release', `write ${release} /etc/thinkiosk-release`];
  if (broken) {
    const session = join(dir, 'kiosk-session-broken');
    writeFileSync(session, `#!/bin/sh\necho "${BROKEN}" >&2\nexit 1\n`);
    commands.push('rm /usr/lib/thinkiosk/kiosk-session', `write ${session} /usr/lib/thinkiosk/kiosk-session`, 'set_inode_field /usr/lib/thinkiosk/kiosk-session mode 0100755');
  }
  debugfsWrite(root, commands);
  assert.match(debugfsCat(root, '/etc/thinkiosk-release'), new RegExp(`^thinkiosk ${version.replace(/\./g, '\\.')} ${arch}`));
  return root;
}

export function writeBundle(dir: string, root: string, version: string, arch: string): string {
  const out = join(dir, `thinkiosk-${version}-${arch}.tkupdate`);
  execFileSync('node', [join(REPO, 'dist/app/core/update/bundle-cli.js'), 'write', '--key', KEY, '--root', root, '--version', version,
    '--build', `ab-update-test-${version}`, '--arch', arch, '--compression', 'gzip', '--out', out], { stdio: 'ignore' });
  return out;
}

