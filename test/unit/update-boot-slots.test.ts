/**
 * The boot loader's slot files (image/ab-slots.md) on plain files: the exact 1024-byte GRUB
 * environment block, U-Boot's short tk-tried.txt, the booted slot from a kernel command line, and
 * trial / commit / cancel written in place (same file, same size, remounted rw then ro around it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BootSlots, bootedSlotOf, ENV_BLOCK_BYTES, formatEnvBlock, formatSlotFile, parseEnvBlock, parseSlotFile, parseTriedFile } from '../../app/core/update/boot-slots.js';

function bootDir(cmdline = 'console=ttyS0 root=LABEL=TKROOT-A thinkiosk.slot=a quiet'): { dir: string; slots: BootSlots; remounts: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'tk-slots-'));
  writeFileSync(join(dir, 'tk-slot.txt'), formatSlotFile({ slot: 'a', trial: null, trialId: null }));
  writeFileSync(join(dir, 'tk-tried.txt'), formatEnvBlock([['tk_tried', '']]));
  writeFileSync(join(dir, 'cmdline'), `${cmdline}\n`);
  const remounts: string[] = [];
  return { dir, remounts, slots: new BootSlots({ dir, cmdlineFile: join(dir, 'cmdline'), remount: async (mode) => void remounts.push(mode) }) };
}

test('boot slots: the environment block is 1024 bytes: header, name=value lines, # padding (as GRUB writes it)', () => {
  const block = formatSlotFile({ slot: 'a', trial: 'b', trialId: '0123456789abcdef' });
  assert.equal(block.length, ENV_BLOCK_BYTES);
  const text = block.toString('latin1');
  assert.ok(text.startsWith('# GRUB Environment Block\ntk_slot=a\ntk_trial=b\ntk_trial_id=0123456789abcdef\n#'));
  assert.match(text, /^[^]*\n#+$/);
  assert.deepEqual(parseSlotFile(block), { slot: 'a', trial: 'b', trialId: '0123456789abcdef' });
  assert.deepEqual([...parseEnvBlock(block)], [['tk_slot', 'a'], ['tk_trial', 'b'], ['tk_trial_id', '0123456789abcdef']]);
  assert.throws(() => formatEnvBlock([['tk_slot', 'a\nx']]), /not an environment block variable/);
});

test('boot slots: read as the boot scripts read them: missing or junk → slot A, no trial; a trial needs another slot and a good id', () => {
  assert.deepEqual(parseSlotFile(null), { slot: 'a', trial: null, trialId: null });
  assert.deepEqual(parseSlotFile(Buffer.from('garbage\x00\x01')), { slot: 'a', trial: null, trialId: null });
  assert.deepEqual(parseSlotFile(Buffer.from('tk_slot=b\n')), { slot: 'b', trial: null, trialId: null });
  assert.deepEqual(parseSlotFile(Buffer.from('tk_slot=b\ntk_trial=b\ntk_trial_id=0123456789abcdef\n')), { slot: 'b', trial: null, trialId: null }, 'a trial of the committed slot is none');
  assert.deepEqual(parseSlotFile(Buffer.from('tk_slot=a\ntk_trial=b\ntk_trial_id=xyz\n')), { slot: 'a', trial: null, trialId: null }, 'a trial without a good id is none');
  // U-Boot's `env export -t` + fatwrite: a short file, no header, no padding.
  assert.equal(parseTriedFile(Buffer.from('tk_tried=0123456789abcdef\n')), '0123456789abcdef');
  assert.equal(parseTriedFile(formatEnvBlock([['tk_tried', 'fedcba9876543210']])), 'fedcba9876543210');
  assert.equal(parseTriedFile(Buffer.from('tk_tried=\n')), null);
  assert.equal(parseTriedFile(null), null);
});

test('boot slots: the booted slot from the kernel command line; none outside an A/B image', () => {
  assert.equal(bootedSlotOf('root=LABEL=TKROOT-B thinkiosk.slot=b panic=10'), 'b');
  assert.equal(bootedSlotOf('thinkiosk.slot=a'), 'a');
  assert.equal(bootedSlotOf('root=/dev/mmcblk0p2 quiet'), null);
  assert.equal(bootedSlotOf('thinkiosk.slot=c'), null);
  assert.equal(bootedSlotOf('xthinkiosk.slot=a'), null);
});

test('boot slots: trial, commit and cancel rewrite tk-slot.txt in place (same inode, 1024 bytes), remounting rw then ro each time', async () => {
  const { dir, slots, remounts } = bootDir();
  try {
    const file = join(dir, 'tk-slot.txt');
    const inode = statSync(file).ino;
    assert.deepEqual((await slots.read()), { booted: 'a', file: { slot: 'a', trial: null, trialId: null }, tried: null });
    const id = await slots.requestTrial('b');
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.deepEqual(parseSlotFile(readFileSync(file)), { slot: 'a', trial: 'b', trialId: id });
    const second = await slots.requestTrial('b');
    assert.notEqual(second, id, 'a fresh id per trial request: an old tk_tried never matches a new trial');
    await assert.rejects(slots.requestTrial('a'), /already the committed slot/);
    await slots.cancelTrial();
    assert.deepEqual(parseSlotFile(readFileSync(file)), { slot: 'a', trial: null, trialId: null });
    await slots.requestTrial('b');
    await slots.commit('b');
    assert.deepEqual(parseSlotFile(readFileSync(file)), { slot: 'b', trial: null, trialId: null });
    assert.equal(statSync(file).ino, inode, 'the same file: never a new one');
    assert.equal(statSync(file).size, ENV_BLOCK_BYTES);
    assert.deepEqual(remounts, ['rw', 'ro', 'rw', 'ro', 'rw', 'ro', 'rw', 'ro', 'rw', 'ro'], 'the refused request wrote nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('boot slots: a tk-slot.txt that is not a 1024-byte block is not written (and the partition goes back to read-only)', async () => {
  const { dir, slots, remounts } = bootDir();
  try {
    writeFileSync(join(dir, 'tk-slot.txt'), 'tk_slot=a\n');
    await assert.rejects(slots.requestTrial('b'), /has 10 bytes, not the 1024 of an environment block/);
    assert.equal(readFileSync(join(dir, 'tk-slot.txt'), 'utf8'), 'tk_slot=a\n');
    assert.deepEqual(remounts, ['rw', 'ro']);
    rmSync(join(dir, 'tk-slot.txt'));
    await assert.rejects(slots.commit('a'), /cannot be opened for writing \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
