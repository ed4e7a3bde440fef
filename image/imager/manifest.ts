/**
 * The Raspberry Pi Imager manifest `make image` writes next to the Pi image
 * (`thinkiosk-<version>-arm64.rpi-imager-manifest`): an OS list with one entry, in the format of
 * rpi-imager's doc/json-schema/os-list-schema.json. Imager 2 offers its OS customisation for an
 * image only through such a manifest, and only in the format its `init_format` names: thinkiosk
 * declares "cloudinit", whose files are declarative YAML that the image reads as preset keys
 * (contract/preset/imager-customisation.ts) — never "systemd", whose firstrun.sh Imager would have
 * the kernel command line run (systemd.run=) at first boot.
 *
 *   node dist/image/imager/manifest.js --image DIR/NAME.img --xz DIR/NAME.img.xz --icon FILE
 *        --version V --out DIR/NAME.rpi-imager-manifest [--base-url URL]
 *
 * Sizes and checksums are the built files' own (a `sha256sum` sidecar, NAME.img.sha256 or
 * NAME.img.xz.sha256, is used when it names the file; otherwise the file is hashed here). url,
 * icon and bmap_url are absolute, as Imager needs them: under --base-url (where the files will be
 * served; THINKIOSK_IMAGER_BASE_URL in image/build.sh) or else file:// URLs of the files where they
 * are. The release date is the day the image was built (the .img.xz's time, UTC).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** init_format values Imager knows (os-list-schema.json); thinkiosk writes only "cloudinit". */
export const ImagerInitFormat = z.enum(['', 'none', 'systemd', 'cloudinit', 'cloudinit-rpi', 'rpi-preseed']);

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex');
const AbsoluteUrl = z.string().regex(/^(https?|file):\/\/\S+$/, 'an absolute URL (Imager does not resolve relative ones)');

/** One OS entry, the fields os-list-schema.json requires plus those thinkiosk sets. */
export const ImagerOsEntry = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  icon: AbsoluteUrl,
  url: AbsoluteUrl,
  extract_size: z.number().int().positive(),
  extract_sha256: Sha256,
  image_download_size: z.number().int().positive(),
  image_download_sha256: Sha256,
  release_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  devices: z.array(z.string().min(1)).min(1),
  init_format: ImagerInitFormat,
  architecture: z.string().optional(),
  website: z.string().optional(),
  bmap_url: AbsoluteUrl.optional(),
}).strict();

/** The devices Imager's first page offers when this manifest is its repository. */
export const ImagerDevice = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  tags: z.array(z.string().min(1)).min(1),
  matching_type: z.enum(['inclusive', 'exclusive']).optional(),
  architecture: z.string().optional(),
  icon: z.string().optional(),
}).strict();

export const ImagerManifest = z.object({
  imager: z.object({ devices: z.array(ImagerDevice).min(1) }).strict(),
  os_list: z.array(ImagerOsEntry).min(1),
}).strict();
export type ImagerManifest = z.infer<typeof ImagerManifest>;

/**
 * The Pi models thinkiosk's image boots (boot/config.txt: 64-bit, Debian's kernel): Pi 3 and Pi 4
 * (with Pi 400 and CM4, which Imager lists under the Pi 4's tags). Imager's official list tags 64-bit
 * images "pi4-64bit"/"pi3-64bit"; its schema's examples use "pi4"/"pi3": both are given, and an
 * entry shows when any tag matches. Not the Pi 5: the image has neither its firmware settings nor
 * has it been booted on one.
 */
export const THINKIOSK_DEVICES = [
  { name: 'Raspberry Pi 4', description: 'Pi 4 Model B, Pi 400 and Compute Module 4', tags: ['pi4-64bit', 'pi4'], matching_type: 'inclusive', architecture: 'armv8' },
  { name: 'Raspberry Pi 3', description: 'Pi 3 Model B and B+, Compute Module 3', tags: ['pi3-64bit', 'pi3'], matching_type: 'inclusive', architecture: 'armv8' },
] as const satisfies readonly z.input<typeof ImagerDevice>[];

export interface BuiltFile {
  path: string;
  size: number;
  sha256: string;
}

export interface ManifestInput {
  version: string;
  image: BuiltFile;
  xz: BuiltFile;
  icon: string;
  bmap?: string;
  releaseDate: Date;
  /** Where the files will be served; absent: file:// URLs of the files where they are. */
  baseUrl?: string;
}

function urlOf(path: string, baseUrl: string | undefined): string {
  if (!baseUrl) return pathToFileURL(resolve(path)).href;
  return new URL(encodeURIComponent(basename(path)), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).href;
}

export function imagerManifest(input: ManifestInput): ImagerManifest {
  return ImagerManifest.parse({
    imager: { devices: THINKIOSK_DEVICES },
    os_list: [{
      name: `thinkiosk ${input.version}`,
      description: 'Thin-client kiosk for OpenStack desktops (read-only system; settings in thinkiosk.conf on the boot partition)',
      icon: urlOf(input.icon, input.baseUrl),
      url: urlOf(input.xz.path, input.baseUrl),
      extract_size: input.image.size,
      extract_sha256: input.image.sha256,
      image_download_size: input.xz.size,
      image_download_sha256: input.xz.sha256,
      release_date: input.releaseDate.toISOString().slice(0, 10),
      devices: THINKIOSK_DEVICES.flatMap((device) => device.tags),
      init_format: 'cloudinit',
      architecture: 'armv8',
      ...(input.bmap ? { bmap_url: urlOf(input.bmap, input.baseUrl) } : {}),
    }],
  });
}

/** The file's sha256 from its `sha256sum` sidecar when that names it, or else by reading it. */
export async function describeFile(path: string, sidecar = `${path}.sha256`): Promise<BuiltFile> {
  const size = statSync(path).size;
  if (existsSync(sidecar)) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/m.exec(readFileSync(sidecar, 'utf8'));
    if (match && basename(match[2]!) === basename(path) && statSync(sidecar).mtimeMs >= statSync(path).mtimeMs) return { path, size, sha256: match[1]! };
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { path, size, sha256: hash.digest('hex') };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { image: { type: 'string' }, xz: { type: 'string' }, icon: { type: 'string' }, version: { type: 'string' }, out: { type: 'string' }, 'base-url': { type: 'string' } },
  });
  const { image, xz, icon, version, out } = values;
  if (!image || !xz || !icon || !version || !out) throw new Error('usage: manifest.js --image IMG --xz IMG.xz --icon FILE --version V --out FILE [--base-url URL]');
  const baseUrl = values['base-url'] || undefined;
  if (baseUrl && !/^https?:\/\/[^\s/]+/.test(baseUrl)) throw new Error(`--base-url must be an http(s) address like https://downloads.example.org/thinkiosk/ (got "${baseUrl}")`);
  const bmap = image.replace(/\.img$/, '.img.bmap');
  const manifest = imagerManifest({
    version, icon, baseUrl, releaseDate: statSync(xz).mtime,
    image: await describeFile(image), xz: await describeFile(xz),
    ...(existsSync(bmap) ? { bmap } : {}),
  });
  writeFileSync(`${out}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${out}.partial`, out);
  process.stdout.write(`${basename(out)} in ${dirname(out)}: ${manifest.os_list[0]!.url}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`rpi-imager manifest: ${error.message}\n`);
    process.exitCode = 2;
  });
}
