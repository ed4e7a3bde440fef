/**
 * make flash (image/flash.sh) refuses what it must never overwrite, before writing anything: no
 * device given, a file that is not a block device, a partition, this machine's own (fixed,
 * mounted) disk; and a missing image or block map.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './appliance.js';

const FLASH = join(REPO, 'image/flash.sh');

function flash(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync(FLASH, args, { encoding: 'utf8' });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** An image and block map that are never written anywhere (every case is refused first). */
function fakeImage(withBmap = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'thinkiosk-flash-'));
  const image = join(dir, 'thinkiosk-0.0.0-arm64.img.xz');
  writeFileSync(image, 'not really an image');
  if (withBmap) writeFileSync(join(dir, 'thinkiosk-0.0.0-arm64.img.bmap'), '<bmap version="2.0"><ImageSize> 1048576 </ImageSize><BlockSize> 4096 </BlockSize></bmap>\n');
  return image;
}

/** This machine's root disk (whole disk), e.g. /dev/vda. */
function systemDisk(): string | null {
  const root = readFileSync('/proc/mounts', 'utf8').split('\n').map((line) => line.split(' ')).find((fields) => fields[1] === '/')?.[0];
  if (!root?.startsWith('/dev/')) return null;
  const disk = spawnSync('lsblk', ['-no', 'PKNAME', root], { encoding: 'utf8' }).stdout.trim();
  return disk ? `/dev/${disk}` : root;
}

test('make flash: no device, a missing image or block map are refused with what to do', () => {
  assert.match(flash().output, /which card\? usage: make flash DEVICE=/);
  assert.match(flash('/dev/sdz', '/nonexistent/thinkiosk.img.xz').output, /does not exist/);
  const { output, status } = flash('/dev/sdz', fakeImage(false));
  assert.notEqual(status, 0);
  assert.match(output, /block map .* is missing/);
});

test('make flash: refuses anything but a whole removable disk, and this machine\'s own disk', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root (the checks after "run as root")');
  const image = fakeImage();
  const file = join(mkdtempSync(join(tmpdir(), 'thinkiosk-flash-')), 'not-a-disk');
  writeFileSync(file, '');
  assert.match(flash(file, image).output, /is not a block device/);
  const disk = systemDisk();
  if (!disk || !existsSync(disk)) return t.skip('no block device for the root file system here');
  const refused = flash(disk, image);
  assert.notEqual(refused.status, 0);
  assert.match(refused.output, /not a removable disk|has mounted partitions|holds this system/);
  assert.doesNotMatch(refused.output, /writing /, 'nothing was written');
});
