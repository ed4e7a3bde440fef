/**
 * The slot's partitions from `sfdisk --json` of real disks (MBR by number, GPT by name), and the
 * guard that keeps the running slot out of reach: a mounted partition cannot be opened for an
 * install (loop devices over a disk image's partitions, one mounted; needs root and loop devices,
 * skipped otherwise).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installBundle } from '../../app/core/update/install.js';
import { findPartition, parseSfdiskJson, readPartitionTable, slotTargetOf } from '../../app/core/update/partitions.js';
import { UpdateError } from '../../app/core/update/update-error.js';
import { makeBundle, makeDisk, makeImages, removeImages, sh, sha256Of } from './update-fixture.js';

const MiB = 1024 * 1024;

test('partitions: an MBR disk image by number; offsets and sizes in bytes from sfdisk --json', async () => {
  const images = makeImages(4, 1);
  try {
    const disk = await makeDisk(images.dir, 'mbr.img', 10);
    const table = await readPartitionTable(disk.file);
    assert.equal(table.label, 'dos');
    assert.deepEqual(table.partitions.map((p) => [p.number, p.offset / MiB, p.size / MiB]), [[1, 1, 6], [2, 7, 10], [3, 17, 10], [4, 27, 4]]);
    // A file: written at the partitions' offsets in the file itself.
    assert.deepEqual(disk.target.partitions.root, { device: disk.file, offset: 17 * MiB, size: 10 * MiB, description: `partition 3 of ${disk.file}` });
    assert.throws(() => findPartition(table, 7), /has no partition 7 \(it has 1, 2, 3, 4\)/);
  } finally {
    removeImages(images);
  }
});

test('partitions: a GPT disk image by partition name', async () => {
  const images = makeImages(4, 1);
  try {
    const file = join(images.dir, 'gpt.img');
    writeFileSync(file, '');
    sh('truncate', ['-s', '40M', file]);
    execFileSync('sfdisk', ['-q', file], { input: 'label: gpt\nstart=2048, size=8M, name=TKBOOT\nsize=8M, name=TKROOT-A\nsize=8M, name=TKROOT-B\nsize=8M, name=TKDATA\n', stdio: ['pipe', 'pipe', 'pipe'] });
    const table = await readPartitionTable(file);
    assert.equal(table.label, 'gpt');
    const slot = await slotTargetOf(table, 'B', { root: { name: 'TKROOT-B' } });
    assert.equal(slot.partitions.root.offset, 17 * MiB);
    assert.equal(slot.partitions.root.description, `partition 3 "TKROOT-B" of ${file}`);
    assert.throws(() => findPartition(table, { name: 'root-c' }), /no a partition named "root-c"|has no a partition named "root-c"/);
  } finally {
    removeImages(images);
  }
});

test('partitions: sfdisk output that is not what we expect is a clear error', () => {
  assert.throws(() => parseSfdiskJson('/dev/x', 'garbage'), /sfdisk --json \/dev\/x printed no JSON/);
  assert.throws(() => parseSfdiskJson('/dev/x', '{"partitiontable":{"label":"sun","device":"/dev/x","unit":"sectors","partitions":[]}}'), /unexpected output/);
  const old = parseSfdiskJson('/dev/x', '{"partitiontable":{"label":"dos","device":"/dev/x","unit":"sectors","partitions":[{"node":"/dev/x1","start":8192,"size":2048,"type":"c"}]}}');
  assert.deepEqual(old.partitions[0], { number: 1, node: '/dev/x1', name: undefined, offset: 8192 * 512, size: 2048 * 512 });
});

const canLoop = process.getuid?.() === 0 && (() => { try { execFileSync('losetup', ['-f'], { stdio: 'pipe' }); return true; } catch { return false; } })();

test('partitions: a mounted block device (the running slot) cannot be opened for an install; unmounted, it installs', { skip: canLoop ? false : 'needs root and loop devices' }, async () => {
  const images = makeImages(8, 1);
  const mnt = join(images.dir, 'mnt');
  mkdirSync(mnt);
  const loops: string[] = [];
  let mounted = false;
  try {
    const disk = await makeDisk(images.dir, 'loop.img', 10);
    const bundle = await makeBundle(images, 'b.tkupdate');
    // Slot B's partition as a block device of its own (a loop device over its byte range: this
    // machine has no udev to make /dev/loopNpM nodes), as /dev/mmcblk0p3 is on a kiosk.
    const device = (role: 'root'): string => {
      const part = disk.target.partitions[role];
      const loop = sh('losetup', ['--show', '-f', '--offset', String(part.offset), '--sizelimit', String(part.size), disk.file]).trim();
      loops.push(loop);
      return loop;
    };
    const slotB = { name: 'B', partitions: {
      root: { ...disk.target.partitions.root, device: device('root'), offset: 0 },
    } };
    const keys = new Map([[images.key.keyId, images.key.publicKey]]);
    const before = sha256Of(disk.file);
    sh('mkfs.ext4', ['-q', '-F', slotB.partitions.root.device]);
    const formatted = sha256Of(disk.file);
    assert.notEqual(formatted, before);
    sh('mount', ['-o', 'ro', slotB.partitions.root.device, mnt]);
    mounted = true;
    await assert.rejects(installBundle(createReadStream(bundle), slotB, keys, '0.1.0', { architecture: 'amd64' }), (e: unknown) => {
      assert.ok(e instanceof UpdateError);
      assert.equal(e.kind, 'write-failed');
      assert.match(e.message, /in use \(mounted\): an update is never written over the running system/);
      assert.equal(e.slotMarked, false);
      return true;
    });
    assert.equal(sha256Of(disk.file), formatted, 'not a byte written while mounted');
    sh('umount', [mnt]);
    mounted = false;
    // Not mounted: it installs through the block devices (the read-back drops their cache first).
    await installBundle(createReadStream(bundle), slotB, keys, '0.1.0', { architecture: 'amd64' });
    sh('e2fsck', ['-fn', slotB.partitions.root.device]);
    assert.equal(sha256Of(disk.file, disk.target.partitions.root.offset, 8 * MiB), sha256Of(images.root));
  } finally {
    if (mounted) sh('umount', [mnt]);
    for (const loop of loops) sh('losetup', ['-d', loop]);
    removeImages(images);
  }
});
