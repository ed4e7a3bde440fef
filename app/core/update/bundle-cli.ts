/**
 * Update bundles from the command line: the image build's step "update bundle"
 * (image/steps/75-bundle.sh) and, by hand, installing one into a disk (image file or card).
 *
 *   node dist/app/core/update/bundle-cli.js key --key FILE [--public-dir DIR]
 *       the signing key at FILE, made when missing (mode 0600); prints "<key id> created" or
 *       "<key id> existing"; --public-dir: writes its public key to DIR/<key id>.pub.
 *   node dist/app/core/update/bundle-cli.js write --key FILE --root root.ext4
 *       --version 0.1.0 --build ID --arch arm64|amd64 --out NAME.tkupdate [--compression gzip|brotli]
 *   node dist/app/core/update/bundle-cli.js install --bundle FILE|URL|- --disk DISK
 *       --root N|NAME --keys DIR --current VERSION [--allow-downgrade] [--arch arm64|amd64]
 *       into the partition of DISK chosen by number (MBR) or name (GPT).
 * A bundle carries the slot's root only (contract/update-bundle.ts): --boot is refused.
 *
 * Progress goes to stdout, one line per step; a failure is one sentence on stderr (and the detail
 * for the log on the next line), exit status 2.
 */
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ARCHITECTURES, COMPRESSIONS, type Architecture, type Compression, type PayloadRole } from '../../../contract/update-bundle.js';
import type { InstallProgress } from './install.js';
import type { PartitionSelector } from './partitions.js';
import { loadOrCreateSigningKey, loadTrustedKeys, publicKeyPem } from './signing-keys.js';
import { UpdateError } from './update-error.js';

class UsageError extends Error {}

function required(values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

async function keyCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { key: { type: 'string' }, 'public-dir': { type: 'string' } } });
  const key = loadOrCreateSigningKey(required(values, 'key'));
  if (values['public-dir']) {
    await mkdir(values['public-dir'], { recursive: true });
    await writeFile(join(values['public-dir'], `${key.keyId}.pub`), publicKeyPem(key.publicKey));
  }
  console.log(`${key.keyId} ${key.created ? 'created' : 'existing'}`);
}

async function writeCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: {
    key: { type: 'string' }, root: { type: 'string' }, version: { type: 'string' }, build: { type: 'string' },
    arch: { type: 'string' }, out: { type: 'string' }, compression: { type: 'string', default: 'gzip' },
  } });
  const key = loadOrCreateSigningKey(required(values, 'key'));
  if (key.created) throw new UsageError(`there was no signing key at ${values.key}: make it with the "key" command first (the image must hold its public key)`);
  const started = Date.now();
  let nextTenth = 1;
  // Each command loads only its own modules: the installer's memory is measured (README).
  const { writeBundle } = await import('./bundle-writer.js');
  const manifest = await writeBundle({
    key,
    payloads: [
      { role: 'root', file: required(values, 'root'), filesystem: 'ext4', fsLabel: 'TKROOT-A' },
    ],
    version: required(values, 'version'),
    build: required(values, 'build'),
    architecture: oneOf<Architecture>(required(values, 'arch'), ARCHITECTURES, 'arch'),
    compression: oneOf<Compression>(required(values, 'compression'), COMPRESSIONS, 'compression'),
    out: required(values, 'out'),
    onProgress: (role, done, total) => {
      if (done * 10 >= total * nextTenth) {
        console.log(`   bundle: ${nextTenth * 10}% (${role}, ${mib(done)} of ${mib(total)}, ${Math.round((Date.now() - started) / 1000)}s)`);
        while (done * 10 >= total * nextTenth) nextTenth++;
      }
    },
  });
  for (const p of manifest.payloads) console.log(`   bundle: ${p.role} ${mib(p.size)} → ${mib(p.compressedSize)} ${p.compression}`);
}

function selector(value: string): PartitionSelector {
  return /^\d+$/.test(value) ? Number(value) : { name: value };
}

async function openSource(bundle: string): Promise<Readable> {
  if (bundle === '-') return process.stdin;
  if (/^https?:\/\//i.test(bundle)) {
    // Loaded only for a download: got alone is ~20 MiB of the process's memory.
    const { default: got } = await import('got');
    return got.stream(bundle, { timeout: { connect: 15_000, response: 30_000 } });
  }
  return createReadStream(bundle, { highWaterMark: 256 * 1024 });
}

async function installCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: {
    bundle: { type: 'string' }, disk: { type: 'string' }, root: { type: 'string' }, keys: { type: 'string' },
    current: { type: 'string' }, 'allow-downgrade': { type: 'boolean', default: false }, arch: { type: 'string' }, slot: { type: 'string', default: 'B' },
  } });
  const { installBundle } = await import('./install.js');
  const { readPartitionTable, slotTargetOf } = await import('./partitions.js');
  const { withSlotLabel } = await import('./slot-label.js');
  const disk = required(values, 'disk');
  const select: Record<PayloadRole, PartitionSelector> = { root: selector(required(values, 'root')) };
  const name = values.slot ?? 'B';
  const table = await slotTargetOf(await readPartitionTable(disk), name.toUpperCase(), select);
  // A slot of the A/B layout (a or b): the root is renamed for it as it is written (TKROOT-B).
  const slot = name.toLowerCase();
  const target = slot === 'a' || slot === 'b' ? withSlotLabel(table, slot) : table;
  const keys = loadTrustedKeys(required(values, 'keys'));
  const started = Date.now();
  let lastPhase = '';
  let nextTenth = 1;
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  const manifest = await installBundle(await openSource(required(values, 'bundle')), target, keys, required(values, 'current'), {
    allowDowngrade: values['allow-downgrade'] === true,
    signal: controller.signal,
    ...(values.arch ? { architecture: oneOf<Architecture>(values.arch, ARCHITECTURES, 'arch') } : {}),
    onProgress: (p: InstallProgress) => {
      const phase = `${p.phase}${p.role ? ` ${p.role}` : ''}`;
      const tenth = p.bytesTotal > 0 && p.bytesDone * 10 >= p.bytesTotal * nextTenth;
      if (phase !== lastPhase || tenth) {
        console.log(`install: ${phase}: ${mib(p.bytesDone)} of ${mib(p.bytesTotal)} (${Math.round((Date.now() - started) / 1000)}s)`);
        lastPhase = phase;
        while (p.bytesTotal > 0 && p.bytesDone * 10 >= p.bytesTotal * nextTenth) nextTenth++;
      }
    },
  });
  console.log(`install: ${manifest.version} (${manifest.build}, ${manifest.architecture}) installed into slot ${target.name} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = { key: keyCommand, write: writeCommand, install: installCommand };

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const run = command === undefined ? undefined : COMMANDS[command];
  try {
    if (!run) throw new UsageError(`the command must be one of ${Object.keys(COMMANDS).join(', ')}`);
    await run(args);
    return 0;
  } catch (error) {
    if (error instanceof UpdateError) {
      console.error(error.message);
      console.error(`detail: ${error.kind}: ${error.detail}`);
    } else if (error instanceof UsageError || (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`bundle-cli: ${(error as Error).message} (see the comment at the top of app/core/update/bundle-cli.ts)`);
    } else {
      console.error(`bundle-cli: ${(error as Error).message}`);
    }
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
