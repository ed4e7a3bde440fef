/**
 * The Raspberry Pi Imager manifest `make image` writes next to the Pi image
 * (image/imager/manifest.ts), run as the build step runs it, on a small image made here: sizes and
 * checksums are the files' own, URLs are absolute (file:// or under the base URL), the init format
 * is the declarative "cloudinit", and the JSON matches the schema taken from Imager's
 * doc/json-schema/os-list-schema.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, statSync, copyFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ImagerManifest } from '../../image/imager/manifest.js';
import { REPO } from '../image/appliance.js';

const WRITER = join(REPO, 'dist/image/imager/manifest.js');
const ICON = join(REPO, 'image/imager/thinkiosk-icon.svg');
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A 3 MiB "image" (compressible and not), its .xz and block map stand-in, as 70-export.sh leaves them. */
function builtImage(): { dir: string; img: string; xz: string } {
  const dir = mkdtempSync(join(tmpdir(), 'thinkiosk-imager-manifest-'));
  const img = join(dir, 'thinkiosk-9.8.7-arm64.img');
  writeFileSync(img, Buffer.concat([randomBytes(1 << 20), Buffer.alloc(2 << 20)]));
  execFileSync('xz', ['-0', '-k', img]);
  writeFileSync(`${img}.bmap`, '<?xml version="1.0"?><bmap version="2.0"/>\n');
  copyFileSync(ICON, join(dir, 'thinkiosk-icon.svg'));
  return { dir, img, xz: `${img}.xz` };
}

function writeManifest(dir: string, img: string, xz: string, extra: string[] = []): ReturnType<typeof spawnSync> {
  return spawnSync('node', [WRITER, '--image', img, '--xz', xz, '--icon', join(dir, 'thinkiosk-icon.svg'), '--version', '9.8.7', '--out', join(dir, 'thinkiosk-9.8.7-arm64.rpi-imager-manifest'), ...extra], { encoding: 'utf8' });
}

test('the manifest holds the built files\' sizes and checksums, file:// URLs, the build day, Pi 3/4 tags and init_format cloudinit', () => {
  const { dir, img, xz } = builtImage();
  utimesSync(xz, new Date('2026-03-04T23:30:00Z'), new Date('2026-03-04T23:30:00Z'));
  const run = writeManifest(dir, img, xz);
  assert.equal(run.status, 0, String(run.stderr));
  const manifest = ImagerManifest.parse(JSON.parse(readFileSync(join(dir, 'thinkiosk-9.8.7-arm64.rpi-imager-manifest'), 'utf8')));
  const [entry] = manifest.os_list;
  assert.ok(entry);
  assert.equal(entry.name, 'thinkiosk 9.8.7');
  assert.equal(entry.extract_size, 3 << 20);
  assert.equal(entry.extract_sha256, sha256(img));
  assert.equal(entry.image_download_size, statSync(xz).size);
  assert.equal(entry.image_download_sha256, sha256(xz));
  assert.ok(entry.image_download_size < entry.extract_size, 'the download is the compressed file');
  assert.equal(entry.url, pathToFileURL(xz).href);
  assert.equal(entry.icon, pathToFileURL(join(dir, 'thinkiosk-icon.svg')).href);
  assert.equal(entry.bmap_url, pathToFileURL(`${img}.bmap`).href);
  assert.equal(entry.release_date, '2026-03-04');
  assert.equal(entry.init_format, 'cloudinit');
  assert.deepEqual(entry.devices, ['pi4-64bit', 'pi4', 'pi3-64bit', 'pi3']);
  assert.ok(manifest.imager.devices.every((device) => device.tags.every((tag) => entry.devices.includes(tag))), 'every listed device finds the entry');
});

test('with a base URL every file is under it; the sha256sum sidecar is used only when it names the file', () => {
  const { dir, img, xz } = builtImage();
  writeFileSync(`${img}.sha256`, `${'0'.repeat(64)}  other.img\n`); // another file's: not taken
  writeFileSync(`${xz}.sha256`, `${sha256(xz)}  ${xz.split('/').pop()}\n`);
  const run = writeManifest(dir, img, xz, ['--base-url', 'https://downloads.example.org/thinkiosk']);
  assert.equal(run.status, 0, String(run.stderr));
  const [entry] = ImagerManifest.parse(JSON.parse(readFileSync(join(dir, 'thinkiosk-9.8.7-arm64.rpi-imager-manifest'), 'utf8'))).os_list;
  assert.equal(entry!.url, 'https://downloads.example.org/thinkiosk/thinkiosk-9.8.7-arm64.img.xz');
  assert.equal(entry!.icon, 'https://downloads.example.org/thinkiosk/thinkiosk-icon.svg');
  assert.equal(entry!.extract_sha256, sha256(img), 'the image was hashed, not the wrong sidecar taken');
});

test('a wrong base URL or a missing image is a sentence and exit status 2, and no manifest is left', () => {
  const { dir, img, xz } = builtImage();
  const wrong = writeManifest(dir, img, xz, ['--base-url', 'downloads.example.org']);
  assert.equal(wrong.status, 2);
  assert.match(String(wrong.stderr), /^rpi-imager manifest: --base-url must be an http\(s\) address/);
  const missing = writeManifest(dir, join(dir, 'nothing.img'), xz);
  assert.equal(missing.status, 2);
  assert.match(String(missing.stderr), /^rpi-imager manifest: .*nothing\.img/);
  assert.throws(() => readFileSync(join(dir, 'thinkiosk-9.8.7-arm64.rpi-imager-manifest')));
});

test('the schema refuses what Imager would not take: a relative URL, an upper-case or short checksum, an unknown init format, no device', () => {
  const good = {
    imager: { devices: [{ name: 'Raspberry Pi 4', description: 'Pi 4', tags: ['pi4'] }] },
    os_list: [{ name: 'x', description: 'y', icon: 'https://a.example/i.svg', url: 'https://a.example/x.img.xz', extract_size: 10, extract_sha256: 'a'.repeat(64), image_download_size: 5, image_download_sha256: 'b'.repeat(64), release_date: '2026-01-02', devices: ['pi4'], init_format: 'cloudinit' }],
  };
  assert.ok(ImagerManifest.safeParse(good).success);
  const entry = good.os_list[0]!;
  for (const bad of [{ url: 'x.img.xz' }, { extract_sha256: 'A'.repeat(64) }, { image_download_sha256: 'b'.repeat(63) }, { init_format: 'cloud-init' }, { devices: [] }, { release_date: '2026-1-2' }]) {
    assert.equal(ImagerManifest.safeParse({ ...good, os_list: [{ ...entry, ...bad }] }).success, false, JSON.stringify(bad));
  }
});
