/**
 * Installs an update bundle into the slot that is not running, straight from a stream (a download,
 * a file on a USB stick): the kiosk's root is read-only with its changes in RAM, so there is no
 * room to keep a bundle, and memory stays bounded (a few MiB) whatever the payloads' size.
 *
 *   1. manifest and signature first: the signature is checked against the keys this kiosk trusts,
 *      then the format, architecture, version (no downgrade unless allowed) and that every payload
 *      fits its partition. Nothing has been written yet if any of this fails.
 *   2. the slot is marked as not bootable: the first MiB of each of its partitions is zeroed
 *      (HEAD_BYTES: the ext4 superblock; boot loader and kernel find no file system there).
 *   3. each payload is decompressed into its partition as it arrives, hashed while written, except
 *      its first MiB, which is kept in memory; size and sha256 must be the signed manifest's.
 *   4. everything is flushed (fsync) and read back from the partitions (the device's cache dropped
 *      first for a block device) and hashed again.
 *   5. only then the first MiB of each partition is written, in install order, flushed and
 *      read back. Until this step the slot holds no file system that anything would boot.
 * On any failure after step 1 the heads are zeroed again: a half-written slot is never bootable.
 *
 * The running slot is never touched: the caller names the target partitions (SlotTarget), every
 * write is inside their byte ranges (a payload larger than its partition is refused up front, one
 * that grows beyond its signed size is stopped), and a partition given as a block device is opened
 * exclusively (O_EXCL): Linux refuses that for a mounted partition, so the running system's own
 * boot and root partitions cannot be opened for writing here at all.
 */
import { createHash, verify } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { type Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip } from 'node:zlib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { z } from 'zod';
import {
  ARCHITECTURES, BundleManifest, compareVersions, MANIFEST_ENTRY, MANIFEST_MAX_BYTES, PAYLOAD_ROLES, SIGNATURE_BYTES, SIGNATURE_ENTRY,
  type Architecture, type BundlePayload, type Compression, type PayloadRole,
} from '../../../contract/update-bundle.js';
import type { TrustedKeys } from './signing-keys.js';
import type { PartitionTarget, SlotTarget } from './slot-target.js';
import { NOT_A_BUNDLE_MESSAGE, TarEntryReader, type TarEntry } from './tar-entries.js';
import { UpdateError } from './update-error.js';
import { setExt4Label } from './ext4-label.js';

/** Held back while a payload is written, zeroed to mark a slot as not bootable. */
export const HEAD_BYTES = 1024 * 1024;
const IO_CHUNK = 1024 * 1024;
/** Decompressed chunks in flight: small, so little garbage waits for the collector (peak memory). */
const STREAM_CHUNK = 64 * 1024;
/** Progress is told at phase changes and every this many bytes (the admin screen redraws that often). */
const PROGRESS_STEP = 4 * 1024 * 1024;

export type InstallPhase = 'checking' | 'writing' | 'verifying' | 'finishing' | 'done';

export interface InstallProgress {
  phase: InstallPhase;
  role?: PayloadRole;
  /** Bytes written plus bytes read back so far, of bytesTotal (twice the payloads' size). */
  bytesDone: number;
  bytesTotal: number;
}

export interface InstallOptions {
  /** Install a lower version than the running one (the admin said so). */
  allowDowngrade?: boolean;
  onProgress?: (progress: InstallProgress) => void;
  signal?: AbortSignal;
  /** This kiosk's architecture; by default the one Node runs on. */
  architecture?: Architecture;
}

/** The image architecture of the machine this runs on (Node's names are arm64 and x64). */
export function runningArchitecture(): Architecture | undefined {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return (ARCHITECTURES as readonly string[]).includes(arch) ? arch as Architecture : undefined;
}

const SLOT_UNTOUCHED = 'The kiosk keeps running its current version.';
const SLOT_MARKED = 'The kiosk keeps running its current version; the other slot is marked as not bootable until an update succeeds.';
const SLOT_NOT_MARKED = 'The kiosk keeps running its current version; the other slot could not be marked as not bootable, so do not switch to it.';

export async function installBundle(
  source: Readable,
  target: SlotTarget,
  trustedKeys: TrustedKeys,
  currentVersion: string,
  options: InstallOptions = {},
): Promise<BundleManifest> {
  const { signal } = options;
  const reader = new TarEntryReader(source);
  const onAbort = (): void => reader.fail(abortedError());
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const progress = new ProgressReporter(options.onProgress);
  let slot: SlotWriter | undefined;
  try {
    progress.phase('checking');
    const manifest = await readVerifiedManifest(reader, trustedKeys);
    checkInstallable(manifest, target, currentVersion, options);
    progress.total = manifest.payloads.reduce((sum, p) => sum + p.size, 0) * 2;
    slot = await SlotWriter.open(target);
    await slot.markNotBootable();
    for (const payload of manifest.payloads) {
      progress.phase('writing', payload.role);
      const entry = await reader.next();
      if (!entry || entry.path !== payload.entry || entry.type !== 'File' || entry.size !== payload.compressedSize) {
        throw new UpdateError('corrupt', CORRUPT_MESSAGE, `expected entry ${payload.entry} of ${payload.compressedSize} bytes, found ${entry ? `${entry.path} (${entry.type}, ${entry.size} bytes)` : 'the end of the bundle'}`);
      }
      await slot.writePayload(payload, entry, signal, (n) => progress.add(n));
    }
    // Whatever follows the last payload (tar's end blocks) is not needed: the download stops here.
    reader.close();
    for (const payload of manifest.payloads) {
      progress.phase('verifying', payload.role);
      await slot.verifyPayload(payload, signal, (n) => progress.add(n));
    }
    signal?.throwIfAborted();
    progress.phase('finishing');
    await slot.commitHeads(manifest.payloads);
    progress.phase('done');
    return manifest;
  } catch (error) {
    // When the bundle stream itself failed (cut off, not a tar, aborted), that is the cause, not
    // what the payload's pipeline made of it (a premature close).
    const failure = error instanceof UpdateError ? error : reader.failure ?? asUpdateError(error, signal);
    reader.fail(failure);
    if (slot?.touched) {
      try {
        await slot.markNotBootable();
      } catch (markError) {
        throw new UpdateError(failure.kind, `${failure.message} ${SLOT_NOT_MARKED}`,
          `${failure.detail}; marking the slot not bootable failed too: ${(markError as Error).message}`, false);
      }
      throw new UpdateError(failure.kind, `${failure.message} ${SLOT_MARKED}`, failure.detail, true);
    }
    throw new UpdateError(failure.kind, `${failure.message} ${SLOT_UNTOUCHED}`, failure.detail, false);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await slot?.close();
  }
}

// ── 1. the manifest ───────────────────────────────────────────────────────────────────────────────

/**
 * Only the signed manifest of a bundle (its first two entries), checked as an install checks it;
 * the rest of the source is not read. For choosing among bundles (a USB stick holding several).
 */
export async function readBundleManifest(source: Readable, trustedKeys: TrustedKeys): Promise<BundleManifest> {
  const reader = new TarEntryReader(source);
  try {
    return await readVerifiedManifest(reader, trustedKeys);
  } finally {
    reader.close();
    source.destroy();
  }
}

async function readVerifiedManifest(reader: TarEntryReader, trustedKeys: TrustedKeys): Promise<BundleManifest> {
  const first = await reader.next();
  if (!first || first.path !== MANIFEST_ENTRY || first.type !== 'File' || first.size > MANIFEST_MAX_BYTES) {
    throw new UpdateError('not-a-bundle', NOT_A_BUNDLE_MESSAGE, `first entry: ${first ? `${first.path} (${first.type}, ${first.size} bytes)` : 'none'}`);
  }
  const manifestBytes = await readAll(first);
  const second = await reader.next();
  if (!second || second.path !== SIGNATURE_ENTRY || second.type !== 'File' || second.size !== SIGNATURE_BYTES) {
    throw new UpdateError('not-a-bundle', NOT_A_BUNDLE_MESSAGE, `second entry: ${second ? `${second.path} (${second.type}, ${second.size} bytes)` : 'none'}`);
  }
  const signature = await readAll(second);
  let raw: unknown;
  try {
    raw = JSON.parse(manifestBytes.toString('utf8'));
  } catch (error) {
    throw new UpdateError('not-a-bundle', NOT_A_BUNDLE_MESSAGE, `manifest.json: ${(error as Error).message}`);
  }
  // The key is looked up by the id the manifest names; the signature then proves the whole manifest.
  const keyId = z.object({ keyId: z.string() }).safeParse(raw).data?.keyId;
  const key = keyId === undefined ? undefined : trustedKeys.get(keyId);
  if (!key) {
    throw new UpdateError('untrusted-key',
      'This update was signed on a build machine this kiosk does not trust. Use a bundle made where this kiosk\'s image was made, or flash the kiosk once with an image from the new build machine.',
      `manifest key ${keyId ?? '(none)'}; trusted: ${[...trustedKeys.keys()].join(', ') || '(none)'}`);
  }
  if (!verify(null, manifestBytes, key, signature)) {
    throw new UpdateError('bad-signature',
      'This update is not what its build machine signed: it was changed or damaged on the way. Get it again from where the kiosk\'s images come from.',
      `Ed25519 signature of ${manifestBytes.length} manifest bytes does not verify with key ${keyId}`);
  }
  const manifest = BundleManifest.safeParse(raw);
  if (!manifest.success) {
    throw new UpdateError('not-a-bundle', 'This update bundle is of a format this kiosk cannot read (made by a newer thinkiosk?). Flash the new image instead.',
      `manifest: ${z.prettifyError(manifest.error)}`);
  }
  return manifest.data;
}

async function readAll(entry: TarEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function checkInstallable(manifest: BundleManifest, target: SlotTarget, currentVersion: string, options: InstallOptions): void {
  const architecture = options.architecture ?? runningArchitecture();
  if (manifest.architecture !== architecture) {
    throw new UpdateError('wrong-architecture',
      `This update is for ${describeArchitecture(manifest.architecture)}, and this kiosk is ${describeArchitecture(architecture)}. Use the ${architecture ?? 'matching'} bundle.`,
      `bundle ${manifest.architecture}, kiosk ${architecture ?? process.arch}`);
  }
  if (compareVersions(manifest.version, currentVersion) < 0 && !options.allowDowngrade) {
    throw new UpdateError('downgrade',
      `This update is version ${manifest.version}, older than the running ${currentVersion}. A kiosk goes back to an older version only when its settings allow it (update_allow_downgrade = yes in thinkiosk.conf, or from its fleet).`,
      `bundle ${manifest.version} (${manifest.build}) < running ${currentVersion}`);
  }
  for (const role of PAYLOAD_ROLES) {
    const payload = manifest.payloads.find((p) => p.role === role);
    const partition = target.partitions[role];
    if (!payload) {
      throw new UpdateError('not-a-bundle', `This update has no ${role} partition, and a slot needs it. Use a complete bundle from the image build.`, `payloads: ${manifest.payloads.map((p) => p.role).join(', ')}`);
    }
    if (payload.size > partition.size) {
      throw new UpdateError('does-not-fit',
        `This update's ${role} partition (${mib(payload.size)}) is larger than the kiosk's (${mib(partition.size)}). Flash the new image onto the card instead.`,
        `${payload.entry}: ${payload.size} bytes > ${partition.description}: ${partition.size} bytes`);
    }
  }
}

function describeArchitecture(architecture: string | undefined): string {
  if (architecture === 'arm64') return 'Raspberry Pi (arm64)';
  if (architecture === 'amd64') return 'PCs (amd64)';
  return `an unknown architecture (${process.arch})`;
}

function mib(bytes: number): string {
  return `${Math.ceil(bytes / 1048576)} MiB`;
}

// ── 2.–5. the slot's partitions ──────────────────────────────────────────────────────────────────

const CORRUPT_MESSAGE = 'The update\'s data is damaged (it does not match its signed checksums). Get it again; if this keeps happening, the bundle itself is bad.';

interface OpenPartition {
  target: PartitionTarget;
  file: FileHandle;
  isBlockDevice: boolean;
  /** The payload's first bytes, written last (step 5). */
  head?: Buffer;
}

class SlotWriter {
  /** True once anything was written: from then on a failure marks the slot not bootable. */
  touched = false;

  private constructor(private readonly partitions: Map<PayloadRole, OpenPartition>, private readonly files: FileHandle[]) {}

  static async open(target: SlotTarget): Promise<SlotWriter> {
    const files: FileHandle[] = [];
    const byDevice = new Map<string, { file: FileHandle; isBlockDevice: boolean }>();
    const partitions = new Map<PayloadRole, OpenPartition>();
    try {
      for (const role of PAYLOAD_ROLES) {
        const part = target.partitions[role];
        let device = byDevice.get(part.device);
        if (!device) {
          const info = await stat(part.device);
          if (info.isFile() && info.size < part.offset + part.size) {
            throw new UpdateError('does-not-fit', `The ${role} partition runs past the end of ${part.device}.`, `${part.description}: ends at ${part.offset + part.size}, file has ${info.size} bytes`);
          }
          if (!info.isFile() && !info.isBlockDevice() && !info.isCharacterDevice()) throw new Error(`${part.device} is neither a file nor a device`);
          // O_EXCL on a block device: Linux refuses it (EBUSY) while the device is mounted.
          const flags = fsConstants.O_RDWR | (info.isBlockDevice() ? fsConstants.O_EXCL : 0);
          const file = await open(part.device, flags);
          files.push(file);
          device = { file, isBlockDevice: info.isBlockDevice() };
          byDevice.set(part.device, device);
        }
        partitions.set(role, { target: part, ...device });
      }
    } catch (error) {
      await Promise.allSettled(files.map((f) => f.close()));
      throw error;
    }
    return new SlotWriter(partitions, files);
  }

  private part(role: PayloadRole): OpenPartition {
    return this.partitions.get(role)!;
  }

  /** Step 2 (and the undo of any failure): zeroes each partition's first MiB, flushed. */
  async markNotBootable(): Promise<void> {
    this.touched = true;
    const zeros = Buffer.alloc(HEAD_BYTES);
    for (const part of this.partitions.values()) {
      const length = Math.min(HEAD_BYTES, part.target.size);
      await writeFully(part.file, zeros.subarray(0, length), part.target.offset);
    }
    await Promise.all(this.files.map((f) => f.sync()));
  }

  /** Step 3: one payload from its tar entry into its partition, the head kept back. */
  async writePayload(payload: BundlePayload, entry: TarEntry, signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<void> {
    const part = this.part(payload.role);
    const packed = new HashingPassThrough();
    const sink = new PartitionSink(part, payload, onBytes);
    await pipeline(entry.body, packed, decompressor(payload.compression), sink, ...(signal ? [{ signal }] : []));
    const packedSha = packed.hash.digest('hex');
    if (packed.bytes !== payload.compressedSize || packedSha !== payload.compressedSha256) {
      throw new UpdateError('corrupt', CORRUPT_MESSAGE, `${payload.entry}: ${packed.bytes} bytes sha256 ${packedSha}, manifest ${payload.compressedSize} bytes ${payload.compressedSha256}`);
    }
    const sha = sink.hash.digest('hex');
    if (sink.bytes !== payload.size || sha !== payload.sha256) {
      throw new UpdateError('corrupt', CORRUPT_MESSAGE, `${payload.role} decompressed: ${sink.bytes} bytes sha256 ${sha}, manifest ${payload.size} bytes ${payload.sha256}`);
    }
    part.head = sink.head;
    await part.file.sync();
  }

  /** Step 4: what the partition now holds (its kept-back head from memory) hashes as signed. */
  async verifyPayload(payload: BundlePayload, signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<void> {
    const part = this.part(payload.role);
    const head = part.head!;
    if (part.isBlockDevice) await dropDeviceCache(part.target.device);
    const hash = createHash('sha256').update(head);
    onBytes(head.length);
    const buffer = Buffer.allocUnsafe(IO_CHUNK);
    for (let done = head.length; done < payload.size;) {
      signal?.throwIfAborted();
      const want = Math.min(IO_CHUNK, payload.size - done);
      const { bytesRead } = await part.file.read(buffer, 0, want, part.target.offset + done);
      if (bytesRead === 0) throw new UpdateError('verify-failed', VERIFY_MESSAGE, `${part.target.description}: end of device after ${done} of ${payload.size} bytes`);
      hash.update(buffer.subarray(0, bytesRead));
      done += bytesRead;
      onBytes(bytesRead);
    }
    const sha = hash.digest('hex');
    if (sha !== payload.sha256) throw new UpdateError('verify-failed', VERIFY_MESSAGE, `${part.target.description}: read back sha256 ${sha}, manifest ${payload.sha256}`);
  }

  /** Step 5: the heads, in install order, each flushed and read back. */
  async commitHeads(payloads: readonly BundlePayload[]): Promise<void> {
    for (const payload of payloads) {
      const part = this.part(payload.role);
      const head = part.head!;
      // The slot's own name, in the verified head just before it is written (ext4-label.ts).
      if (part.target.fsLabel && payload.filesystem === 'ext4') setExt4Label(head, part.target.fsLabel);
      await writeFully(part.file, head, part.target.offset);
      await part.file.sync();
      if (part.isBlockDevice) await dropDeviceCache(part.target.device);
      const back = Buffer.alloc(head.length);
      const { bytesRead } = await part.file.read(back, 0, head.length, part.target.offset);
      if (bytesRead !== head.length || !back.equals(head)) {
        throw new UpdateError('verify-failed', VERIFY_MESSAGE, `${part.target.description}: the first ${head.length} bytes read back differ`);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.files.map((f) => f.close()));
  }
}

const VERIFY_MESSAGE = 'What was written to the card reads back differently: the card may be failing. Try again; if it happens again, replace the card.';

async function writeFully(file: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await file.write(data, done, data.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error(`wrote nothing at ${position + done}`), { code: 'EIO' });
    done += bytesWritten;
  }
}

/** A block device's cached blocks are dropped so the read-back reads the card, not memory. */
async function dropDeviceCache(device: string): Promise<void> {
  try {
    await promisify(execFile)('blockdev', ['--flushbufs', device], { timeout: 60_000 });
  } catch (error) {
    throw new UpdateError('verify-failed', 'The card could not be read back to check the update.', `blockdev --flushbufs ${device}: ${(error as Error).message}`);
  }
}

function decompressor(compression: Compression): Transform {
  return compression === 'gzip' ? createGunzip({ chunkSize: STREAM_CHUNK }) : createBrotliDecompress({ chunkSize: STREAM_CHUNK });
}

class HashingPassThrough extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/**
 * Writes a decompressed payload into its partition at its offset; hashes and counts it; keeps its
 * first HEAD_BYTES in memory instead of writing them; stops at once when the data grows beyond the
 * signed size (nothing is ever written past the partition).
 */
class PartitionSink extends Writable {
  readonly hash = createHash('sha256');
  readonly head: Buffer;
  bytes = 0;

  constructor(private readonly part: OpenPartition, private readonly payload: BundlePayload, private readonly onBytes: (n: number) => void) {
    super({ highWaterMark: STREAM_CHUNK });
    this.head = Buffer.alloc(Math.min(HEAD_BYTES, payload.size));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const start = this.bytes;
    if (start + chunk.length > this.payload.size) {
      done(new UpdateError('corrupt', CORRUPT_MESSAGE, `${this.payload.role}: more than the signed ${this.payload.size} bytes`));
      return;
    }
    this.hash.update(chunk);
    this.bytes += chunk.length;
    const inHead = Math.max(0, Math.min(chunk.length, this.head.length - start));
    if (inHead > 0) chunk.copy(this.head, start, 0, inHead);
    const rest = chunk.subarray(inHead);
    if (rest.length === 0) {
      this.onBytes(chunk.length);
      done();
      return;
    }
    writeFully(this.part.file, rest, this.part.target.offset + start + inHead).then(() => {
      this.onBytes(chunk.length);
      done();
    }, done);
  }
}

// ── errors and progress ──────────────────────────────────────────────────────────────────────────

function abortedError(): UpdateError {
  return new UpdateError('aborted', 'The update was stopped.', 'aborted by the caller');
}

function asUpdateError(error: unknown, signal: AbortSignal | undefined): UpdateError {
  if (error instanceof UpdateError) return error;
  const e = error as NodeJS.ErrnoException;
  if (signal?.aborted || e?.name === 'AbortError') return abortedError();
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) return new UpdateError('corrupt', CORRUPT_MESSAGE, `decompression: ${e.message}`);
  if (e?.code === 'ENOSPC') {
    return new UpdateError('write-failed', 'The card is full or smaller than its partition table says: the update could not be written.', `${e.code}: ${e.message}`);
  }
  if (e?.code === 'EBUSY') {
    return new UpdateError('write-failed', 'The target partition is in use (mounted): an update is never written over the running system.', `${e.code}: ${e.message}`);
  }
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    return new UpdateError('write-failed', 'The update could not be written to the card. Try again; if it happens again, the card may be failing.', `${e.code}: ${e.message}`);
  }
  return new UpdateError('write-failed', 'The update could not be installed because of an internal error. Try again.', String(e?.stack ?? e));
}

class ProgressReporter {
  total = 0;
  private done = 0;
  private lastTold = 0;
  private current: Omit<InstallProgress, 'bytesDone' | 'bytesTotal'> = { phase: 'checking' };

  constructor(private readonly onProgress: ((progress: InstallProgress) => void) | undefined) {}

  phase(phase: InstallPhase, role?: PayloadRole): void {
    this.current = role ? { phase, role } : { phase };
    this.tell();
  }

  add(bytes: number): void {
    this.done += bytes;
    if (this.done - this.lastTold >= PROGRESS_STEP) this.tell();
  }

  private tell(): void {
    this.lastTold = this.done;
    this.onProgress?.({ ...this.current, bytesDone: this.done, bytesTotal: this.total });
  }
}
