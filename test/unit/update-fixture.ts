/**
 * Real file systems and disks for the update bundle tests: an ext4 root image made with mkfs (as
 * the image build makes it), a bundle written from it, and a disk image file with the A/B layout's
 * partition table made by sfdisk (image/ab-slots.md: 1 the shared boot partition, 2 root A, 3 root
 * B, 4 the settings; 1, 2 and 4 are filled with random bytes that must never change, 3 is the
 * install target).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Architecture, Compression } from '../../contract/update-bundle.js';
import { writeBundle } from '../../app/core/update/bundle-writer.js';
import { readPartitionTable, slotTargetOf } from '../../app/core/update/partitions.js';
import { loadOrCreateSigningKey, type SigningKey } from '../../app/core/update/signing-keys.js';
import type { SlotTarget } from '../../app/core/update/slot-target.js';

const MiB = 1024 * 1024;

export function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PATH: `/usr/sbin:/sbin:${process.env.PATH ?? ''}`, MTOOLS_SKIP_CHECK: '1' } });
}

export interface Images {
  dir: string;
  root: string;
  /** A file in the root file system, with its content. */
  rootFile: { path: string; content: Buffer };
  key: SigningKey;
}

/** An ext4 root of `rootMiB` holding `randomMiB` of random bytes and /etc/thinkiosk-release. */
export function makeImages(rootMiB = 8, randomMiB = 2, releaseLine = 'thinkiosk 0.2.0 test'): Images {
  const dir = mkdtempSync(join(tmpdir(), 'tk-update-'));
  const files = join(dir, 'rootfs');
  mkdirSync(join(files, 'etc'), { recursive: true });
  const content = randomBytes(randomMiB * MiB);
  writeFileSync(join(files, 'etc', 'random.bin'), content);
  writeFileSync(join(files, 'etc', 'thinkiosk-release'), `${releaseLine}\n`);
  const root = join(dir, 'root.ext4');
  sh('mkfs.ext4', ['-q', '-F', '-L', 'TKROOT-A', '-O', '^has_journal', '-m', '0', '-d', files, root, `${rootMiB}M`]);
  return { dir, root, rootFile: { path: '/etc/random.bin', content }, key: loadOrCreateSigningKey(join(dir, 'keys', 'signing.pem')) };
}

export async function makeBundle(images: Images, name: string, options: { version?: string; architecture?: Architecture; compression?: Compression } = {}): Promise<string> {
  const out = join(images.dir, name);
  await writeBundle({
    key: images.key,
    payloads: [{ role: 'root', file: images.root, filesystem: 'ext4', fsLabel: 'TKROOT-A' }],
    version: options.version ?? '0.2.0',
    build: 'test',
    architecture: options.architecture ?? 'amd64',
    compression: options.compression ?? 'gzip',
    out,
  });
  return out;
}

export interface Disk {
  file: string;
  target: SlotTarget;
  /** sha256 of everything but slot B's partition (boot, root A, settings): must never change. */
  slotASha: () => string;
}

/**
 * A disk image file: 1 boot (6 MiB), 2 root A (`rootMiB`), 3 root B (`rootBMiB`), 4 settings
 * (4 MiB). 1, 2 and 4 hold random bytes, root B a 0xAB pattern (an old, different install).
 */
export async function makeDisk(dir: string, name: string, rootMiB = 10, rootBMiB = rootMiB): Promise<Disk> {
  const file = join(dir, name);
  const boot = 6;
  const data = 4;
  const starts = [1, 1 + boot, 1 + boot + rootMiB, 1 + boot + rootMiB + rootBMiB];
  const sizes = [boot, rootMiB, rootBMiB, data];
  const total = starts[3]! + sizes[3]! + 1;
  writeFileSync(file, '');
  sh('truncate', ['-s', `${total}M`, file]);
  const table = ['label: dos', 'unit: sectors', ...starts.map((s, i) => `start=${s * 2048}, size=${sizes[i]! * 2048}, type=${i === 0 ? 'c' : '83'}`)].join('\n');
  execFileSync('sfdisk', ['-q', file], { input: `${table}\n`, env: { ...process.env, PATH: `/usr/sbin:/sbin:${process.env.PATH ?? ''}` } });
  const fd = openSync(file, 'r+');
  writeSync(fd, randomBytes((boot + rootMiB) * MiB), 0, undefined, starts[0]! * MiB);
  writeSync(fd, Buffer.alloc(rootBMiB * MiB, 0xab), 0, undefined, starts[2]! * MiB);
  writeSync(fd, randomBytes(data * MiB), 0, undefined, starts[3]! * MiB);
  closeSync(fd);
  const target = await slotTargetOf(await readPartitionTable(file), 'B', { root: 3 });
  const untouched = (): string => createHash('sha256')
    .update(readRange(file, starts[0]! * MiB, (boot + rootMiB) * MiB))
    .update(readRange(file, starts[3]! * MiB, data * MiB)).digest('hex');
  return { file, target, slotASha: untouched };
}

export function sha256Of(file: string, offset = 0, length?: number): string {
  const data = readFileSync(file);
  return createHash('sha256').update(data.subarray(offset, length === undefined ? undefined : offset + length)).digest('hex');
}

export function readRange(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, offset);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

/** Where an entry's data starts in a tar file (ustar headers: name at 0, octal size at 124). */
export function entryDataOffset(tar: Buffer, name: string): { offset: number; size: number } {
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    const entryName = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    if (entryName === '') break;
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim(), 8);
    if (entryName === name) return { offset: at + 512, size };
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`no entry ${name}`);
}

export function removeImages(images: Images): void {
  rmSync(images.dir, { recursive: true, force: true });
}
