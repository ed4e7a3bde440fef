/**
 * Renaming a slot's root in its held-back first MiB (app/core/update/ext4-label.ts): checked on real
 * ext4 file systems made by mkfs.ext4 (with and without metadata checksums), read back by e2fsck
 * (which verifies the superblock's checksum) and blkid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ext4LabelError, ext4Label, setExt4Label } from '../../app/core/update/ext4-label.js';

function makeExt4(dir: string, features: string): string {
  const tree = join(dir, 'tree');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'hello'), 'hello\n');
  const file = join(dir, `fs-${features.replace(/\W/g, '')}.ext4`);
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'TKROOT-A', '-O', features, '-d', tree, file, '32M']);
  return file;
}

function relabel(file: string, label: string): string {
  const fd = openSync(file, 'r+');
  try {
    const head = Buffer.alloc(1 << 20);
    readSync(fd, head, 0, head.length, 0);
    const before = ext4Label(head);
    setExt4Label(head, label);
    writeSync(fd, head, 0, head.length, 0);
    return before;
  } finally {
    closeSync(fd);
  }
}

test('a root made as TKROOT-A becomes TKROOT-B, and e2fsck finds the superblock sound', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tk-ext4-label-'));
  try {
    for (const features of ['^has_journal', '^has_journal,^metadata_csum']) {
      const file = makeExt4(dir, features);
      assert.equal(relabel(file, 'TKROOT-B'), 'TKROOT-A');
      assert.equal(execFileSync('blkid', ['-o', 'value', '-s', 'LABEL', file], { encoding: 'utf8' }).trim(), 'TKROOT-B', features);
      // Exit 0 only when nothing is wrong: a stale superblock checksum fails here.
      execFileSync('e2fsck', ['-fn', file], { stdio: 'pipe' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what is not an ext4 superblock, or not a label, is refused before anything changes', () => {
  assert.throws(() => setExt4Label(Buffer.alloc(4096), 'TKROOT-B'), Ext4LabelError);
  assert.throws(() => setExt4Label(Buffer.alloc(1000), 'TKROOT-B'), Ext4LabelError);
  const dir = mkdtempSync(join(tmpdir(), 'tk-ext4-label-'));
  try {
    const file = makeExt4(dir, '^has_journal');
    assert.throws(() => relabel(file, 'A-LABEL-LONGER-THAN-16'), Ext4LabelError);
    assert.equal(execFileSync('blkid', ['-o', 'value', '-s', 'LABEL', file], { encoding: 'utf8' }).trim(), 'TKROOT-A');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
