/**
 * The installer's memory stays bounded whatever the payload's size: bundles with a 16 MiB and a
 * 160 MiB root file system (three quarters random, so they barely compress; the larger one is
 * larger than the bound) are installed by the command-line tool in its own process with the
 * kiosk's Node flags, and GNU time reports each process's peak resident memory. An installer that
 * held a payload (or the download) in memory would exceed the bound, and grow with the payload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setExt4Label } from '../../app/core/update/ext4-label.js';
import { publicKeyPem } from '../../app/core/update/signing-keys.js';
import { makeBundle, makeDisk, makeImages, removeImages, sha256Of, type Disk, type Images } from './update-fixture.js';

const CLI = fileURLToPath(new URL('../../app/core/update/bundle-cli.js', import.meta.url));
const BOUND_MIB = 100;
/** What a payload ten times larger may add: garbage chunks waiting for the collector (measured 9–13 MiB), never the payload (144 MiB more). */
const GROWTH_MIB = 24;

/** Peak resident MiB of one install by the command-line tool, with the kiosk's Node flags (kiosk-session). */
function installPeakMiB(images: Images, bundle: string, disk: Disk, keys: string): number {
  const report = join(images.dir, 'time.txt');
  const out = execFileSync('/usr/bin/time', ['-f', '%M', '-o', report, process.execPath, '--max-semi-space-size=1', CLI, 'install', '--bundle', bundle,
    '--disk', disk.file, '--root', '3', '--keys', keys, '--current', '0.1.0', '--arch', 'amd64'], { encoding: 'utf8' });
  assert.match(out, /installed into slot B/);
  const peak = Number(readFileSync(report, 'utf8').trim().split('\n').at(-1)) / 1024;
  assert.ok(Number.isFinite(peak) && peak > 10, `GNU time reported ${peak}`);
  return peak;
}

test(`update bundle: installing a 160 MiB root keeps the installer under ${BOUND_MIB} MiB resident, ten times the payload adds under ${GROWTH_MIB} MiB`, { skip: existsSync('/usr/bin/time') ? false : 'needs GNU time (/usr/bin/time)', timeout: 180_000 }, async () => {
  const small = makeImages(16, 12);
  const big = makeImages(160, 120);
  try {
    const peaks = [];
    for (const images of [small, big]) {
      const bundle = await makeBundle(images, 'b.tkupdate');
      const rootMiB = images === big ? 160 : 16;
      const disk = await makeDisk(images.dir, 'disk.img', rootMiB);
      const keys = join(images.dir, 'trusted');
      mkdirSync(keys);
      writeFileSync(join(keys, `${images.key.keyId}.pub`), publicKeyPem(images.key.publicKey));
      peaks.push(installPeakMiB(images, bundle, disk, keys));
      // Byte for byte the bundle's root, but for its name: the installer calls it TKROOT-B (ext4-label.ts).
      const expected = join(images.dir, 'root-as-b.ext4');
      copyFileSync(images.root, expected);
      const head = readFileSync(expected).subarray(0, 1 << 20);
      setExt4Label(head, 'TKROOT-B');
      const fd = openSync(expected, 'r+');
      try { writeSync(fd, head, 0, head.length, 0); } finally { closeSync(fd); }
      assert.equal(sha256Of(disk.file, disk.target.partitions.root.offset, rootMiB * 1024 * 1024), sha256Of(expected));
    }
    const [smallPeak, bigPeak] = peaks as [number, number];
    console.log(`# installer peak RSS: ${smallPeak.toFixed(1)} MiB for a 16 MiB root, ${bigPeak.toFixed(1)} MiB for a 160 MiB root`);
    assert.ok(bigPeak < BOUND_MIB, `peak resident memory ${bigPeak.toFixed(1)} MiB`);
    assert.ok(bigPeak - smallPeak < GROWTH_MIB, `${smallPeak.toFixed(1)} MiB → ${bigPeak.toFixed(1)} MiB`);
  } finally {
    removeImages(small);
    removeImages(big);
  }
});
