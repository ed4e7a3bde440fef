/**
 * Update bundles end to end on real file systems: a bundle written from an mkfs-made ext4 image is
 * installed from a stream into slot B of a disk image file with the A/B layout's sfdisk partition
 * table; e2fsck and debugfs then read what was written. Every failure case checks the
 * error's kind and sentence, that slot A never changed, and whether slot B was marked as not
 * bootable (its partitions' first MiB zeroed) or not touched at all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import got from 'got';
import { compareVersions, keyIdOf, MANIFEST_ENTRY, type BundleManifest } from '../../contract/update-bundle.js';
import { HEAD_BYTES, installBundle, type InstallOptions, type InstallProgress } from '../../app/core/update/install.js';
import { UpdateError, type UpdateErrorKind } from '../../app/core/update/update-error.js';
import type { TrustedKeys } from '../../app/core/update/signing-keys.js';
import { entryDataOffset, makeBundle, makeDisk, makeImages, readRange, removeImages, sh, sha256Of, type Disk, type Images } from './update-fixture.js';

let images: Images;
let bundle: string;
let trusted: TrustedKeys;

before(async () => {
  images = makeImages();
  bundle = await makeBundle(images, 'good.tkupdate');
  trusted = new Map([[images.key.keyId, images.key.publicKey]]);
});
after(() => removeImages(images));

let diskCount = 0;
async function freshDisk(rootMiB?: number, rootBMiB?: number): Promise<Disk> {
  return makeDisk(images.dir, `disk-${++diskCount}.img`, rootMiB, rootBMiB);
}

function install(source: string | Buffer | Readable, disk: Disk, options: InstallOptions = {}, current = '0.1.0', keys = trusted): Promise<BundleManifest> {
  const stream = typeof source === 'string' ? createReadStream(source) : Buffer.isBuffer(source) ? Readable.from([source]) : source;
  return installBundle(stream, disk.target, keys, current, { architecture: 'amd64', ...options });
}

function isUpdateError(kind: UpdateErrorKind, slotMarked: boolean, sentence: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof UpdateError, `not an UpdateError: ${String(error)}`);
    assert.equal(error.kind, kind, `${error.kind}: ${error.message} (${error.detail})`);
    assert.equal(error.slotMarked, slotMarked);
    assert.match(error.message, sentence);
    assert.doesNotMatch(error.message, /\n|\bat .*\.js:\d+/, 'no stack trace for the admin');
    return true;
  };
}

/** Slot B's partition starts with a zeroed MiB: no file system for the boot loader or kernel. */
function assertSlotBMarked(disk: Disk): void {
  const part = disk.target.partitions.root;
  assert.ok(readRange(disk.file, part.offset, HEAD_BYTES).equals(Buffer.alloc(HEAD_BYTES)), 'root of slot B starts with zeros');
  assert.throws(() => sh('e2fsck', ['-fn', `${disk.file}?offset=${disk.target.partitions.root.offset}`]));
}

function tampered(file: string, change: (bytes: Buffer) => void): Buffer {
  const bytes = readFileSync(file);
  change(bytes);
  return bytes;
}

test('update bundle: a good bundle installs into slot B from a stream; the file systems read back whole, slot A is untouched', async () => {
  const disk = await freshDisk();
  const slotA = disk.slotASha();
  const progress: InstallProgress[] = [];
  const manifest = await install(bundle, disk, { onProgress: (p) => progress.push(p) });
  assert.equal(manifest.version, '0.2.0');
  assert.deepEqual(manifest.payloads.map((p) => p.role), ['root']);
  const { root } = disk.target.partitions;
  assert.equal(sha256Of(disk.file, root.offset, manifest.payloads[0]!.size), sha256Of(images.root));
  sh('e2fsck', ['-fn', `${disk.file}?offset=${root.offset}`]);
  const catted = sh('debugfs', ['-R', 'cat /etc/thinkiosk-release', `${disk.file}?offset=${root.offset}`]);
  assert.match(catted, /thinkiosk 0\.2\.0 test/);
  assert.equal(disk.slotASha(), slotA, 'boot, slot A and settings unchanged');
  // Progress: phases in order, bytes never go back, the end is the total (written + read back).
  const phases = [...new Set(progress.map((p) => p.phase))];
  assert.deepEqual(phases, ['checking', 'writing', 'verifying', 'finishing', 'done']);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.bytesDone >= progress[i - 1]!.bytesDone);
  const last = progress.at(-1)!;
  assert.equal(last.bytesDone, last.bytesTotal);
  assert.equal(last.bytesTotal, 2 * manifest.payloads[0]!.size);
});

test('update bundle: a Brotli bundle installs the same bytes', async () => {
  const brotli = await makeBundle(images, 'brotli.tkupdate', { compression: 'brotli' });
  const disk = await freshDisk();
  const manifest = await install(brotli, disk);
  assert.deepEqual(manifest.payloads.map((p) => p.compression), ['brotli']);
  assert.equal(sha256Of(disk.file, disk.target.partitions.root.offset, manifest.payloads[0]!.size), sha256Of(images.root));
  sh('e2fsck', ['-fn', `${disk.file}?offset=${disk.target.partitions.root.offset}`]);
});

test('update bundle: the bundle is a tar with the manifest first, then its signature, then the root', () => {
  const listing = sh('tar', ['tf', bundle]).trim().split('\n');
  assert.deepEqual(listing, ['manifest.json', 'manifest.sig', 'root.ext4.gz']);
  const bytes = readFileSync(bundle);
  const m = entryDataOffset(bytes, MANIFEST_ENTRY);
  const manifest = JSON.parse(bytes.subarray(m.offset, m.offset + m.size).toString('utf8')) as BundleManifest;
  assert.equal(manifest.keyId, keyIdOf(images.key.publicKey));
  assert.equal(manifest.product, 'thinkiosk');
});

test('update bundle: a changed payload byte is a checksum error; slot B is marked not bootable, slot A untouched', async (t) => {
  const bytes = readFileSync(bundle);
  const root = entryDataOffset(bytes, 'root.ext4.gz');
  await t.test('a byte of the gzip header (zlib ignores it: only the signed sha256 of the download sees it)', async () => {
    const disk = await freshDisk();
    const slotA = disk.slotASha();
    const changed = tampered(bundle, (b) => { b[root.offset + 4]! ^= 0xff; });
    await assert.rejects(install(changed, disk), isUpdateError('corrupt', true, /damaged.*The kiosk keeps running its current version; the other slot is marked as not bootable/));
    assertSlotBMarked(disk);
    assert.equal(disk.slotASha(), slotA);
  });
  await t.test('a byte in the middle of the compressed data', async () => {
    const disk = await freshDisk();
    const slotA = disk.slotASha();
    const changed = tampered(bundle, (b) => { b[root.offset + Math.floor(root.size / 2)]! ^= 0x01; });
    await assert.rejects(install(changed, disk), isUpdateError('corrupt', true, /damaged/));
    assertSlotBMarked(disk);
    assert.equal(disk.slotASha(), slotA);
  });
});

test('update bundle: a changed manifest fails its signature and nothing is written', async () => {
  const disk = await freshDisk();
  const before = sha256Of(disk.file);
  const changed = tampered(bundle, (b) => {
    const m = entryDataOffset(b, MANIFEST_ENTRY);
    const text = b.subarray(m.offset, m.offset + m.size).toString('utf8');
    const at = text.indexOf('"version": "0.2.0"');
    assert.ok(at > 0);
    b.write('"version": "9.2.0"', m.offset + at, 'utf8');
  });
  await assert.rejects(install(changed, disk), isUpdateError('bad-signature', false, /not what its build machine signed.*The kiosk keeps running its current version\.$/));
  assert.equal(sha256Of(disk.file), before, 'not a byte written');
});

test('update bundle: a bundle signed with a key the kiosk does not trust is refused before writing', async () => {
  const disk = await freshDisk();
  const before = sha256Of(disk.file);
  const other = generateKeyPairSync('ed25519').publicKey;
  await assert.rejects(install(bundle, disk, {}, '0.1.0', new Map([[keyIdOf(other), other]])), isUpdateError('untrusted-key', false, /does not trust/));
  await assert.rejects(install(bundle, disk, {}, '0.1.0', new Map()), isUpdateError('untrusted-key', false, /does not trust/));
  assert.equal(sha256Of(disk.file), before);
});

test('update bundle: a bundle for another architecture is refused before writing', async () => {
  const disk = await freshDisk();
  const before = sha256Of(disk.file);
  const arm = await makeBundle(images, 'arm64.tkupdate', { architecture: 'arm64' });
  await assert.rejects(install(arm, disk, { architecture: 'amd64' }), isUpdateError('wrong-architecture', false, /for Raspberry Pi \(arm64\), and this kiosk is PCs \(amd64\)/));
  assert.equal(sha256Of(disk.file), before);
});

test('update bundle: an older version is refused unless allowed; the same version installs again', async () => {
  const disk = await freshDisk();
  const before = sha256Of(disk.file);
  await assert.rejects(install(bundle, disk, {}, '0.3.0'), isUpdateError('downgrade', false, /version 0\.2\.0, older than the running 0\.3\.0/));
  await assert.rejects(install(bundle, disk, {}, '0.2.1-rc.1'), isUpdateError('downgrade', false, /older/));
  assert.equal(sha256Of(disk.file), before);
  await install(bundle, disk, { allowDowngrade: true }, '0.3.0');
  sh('e2fsck', ['-fn', `${disk.file}?offset=${disk.target.partitions.root.offset}`]);
  await install(bundle, await freshDisk(), {}, '0.2.0');
  assert.equal(compareVersions('0.2.0-rc.1', '0.2.0'), -1);
  assert.equal(compareVersions('0.2.0-rc.2', '0.2.0-rc.10'), -1);
  assert.equal(compareVersions('0.10.0', '0.9.9'), 1);
  assert.equal(compareVersions('1.0.0', '1.0.0'), 0);
});

test('update bundle: a file that ends early is a clear "ended before it was complete"; slot B marked', async () => {
  const disk = await freshDisk();
  const slotA = disk.slotASha();
  const bytes = readFileSync(bundle);
  const root = entryDataOffset(bytes, 'root.ext4.gz');
  const cut = join(images.dir, 'cut.tkupdate');
  writeFileSync(cut, bytes.subarray(0, root.offset + Math.floor(root.size / 2)));
  await assert.rejects(install(cut, disk), isUpdateError('truncated', true, /ended before it was complete/));
  assertSlotBMarked(disk);
  assert.equal(disk.slotASha(), slotA);
  // Cut inside the manifest: nothing written at all.
  const early = await freshDisk();
  const before = sha256Of(early.file);
  await assert.rejects(install(bytes.subarray(0, 700), early), isUpdateError('truncated', false, /ended before it was complete/));
  assert.equal(sha256Of(early.file), before);
});

test('update bundle: a download whose connection is cut mid-payload (real HTTP on loopback, got) fails as truncated', async () => {
  const bytes = readFileSync(bundle);
  const root = entryDataOffset(bytes, 'root.ext4.gz');
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
    response.write(bytes.subarray(0, root.offset + Math.floor(root.size / 3)), () => response.socket?.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const disk = await freshDisk();
    const slotA = disk.slotASha();
    await assert.rejects(install(got.stream(`http://127.0.0.1:${port}/b.tkupdate`, { retry: { limit: 0 } }), disk), isUpdateError('truncated', true, /ended before it was complete/));
    assertSlotBMarked(disk);
    assert.equal(disk.slotASha(), slotA);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('update bundle: a payload larger than its partition is refused before writing', async () => {
  const disk = await freshDisk(10, 6);
  const before = sha256Of(disk.file);
  await assert.rejects(install(bundle, disk), isUpdateError('does-not-fit', false, /root partition \(8 MiB\) is larger than the kiosk's \(6 MiB\)/));
  assert.equal(sha256Of(disk.file), before);
});

test('update bundle: stopping mid-write (AbortSignal) leaves slot B marked not bootable', async () => {
  const disk = await freshDisk();
  const slotA = disk.slotASha();
  const controller = new AbortController();
  await assert.rejects(install(bundle, disk, {
    signal: controller.signal,
    onProgress: (p) => { if (p.phase === 'writing' && p.bytesDone > 0) controller.abort(); },
  }), isUpdateError('aborted', true, /was stopped/));
  assertSlotBMarked(disk);
  assert.equal(disk.slotASha(), slotA);
});

test('update bundle: a device that is full (/dev/full: ENOSPC) is a write error, and says the slot could not be marked', async () => {
  const disk = await freshDisk();
  const full = { name: 'B', partitions: {
    root: { device: '/dev/full', offset: 8 * 1024 * 1024, size: 10 * 1024 * 1024, description: '/dev/full (root)' },
  } };
  await assert.rejects(installBundle(createReadStream(bundle), full, trusted, '0.1.0', { architecture: 'amd64' }),
    isUpdateError('write-failed', false, /card is full.*could not be marked as not bootable, so do not switch to it/));
  void disk;
});

test('update bundle: a file that is not a bundle is refused before writing', async () => {
  const disk = await freshDisk();
  const before = sha256Of(disk.file);
  await assert.rejects(install(Buffer.from('<html><body>502 Bad Gateway</body></html>\n'.repeat(40)), disk), isUpdateError('not-a-bundle', false, /not a thinkiosk update bundle/));
  await assert.rejects(install(images.root, disk), isUpdateError('not-a-bundle', false, /not a thinkiosk update bundle/));
  assert.equal(sha256Of(disk.file), before);
});
