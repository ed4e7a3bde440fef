/**
 * The update bundle (`thinkiosk-<version>-<arch>.tkupdate`): one definition for the build that
 * writes it (app/core/update/bundle-writer.ts) and the kiosk that installs it
 * (app/core/update/install.ts).
 *
 * A bundle is a plain POSIX tar (ustar), read front to back as it downloads, never stored:
 *   1. `manifest.json`  what the bundle holds (BundleManifest below), UTF-8 JSON
 *   2. `manifest.sig`   the Ed25519 signature of the exact bytes of manifest.json (64 bytes)
 *   3. one entry per payload, in the manifest's order: a partition image (the file system the
 *      build made with mkfs), compressed as the manifest says
 * The manifest comes first so a kiosk checks the signature, the architecture, the version and that
 * every payload fits BEFORE it writes a byte; the payloads' sha256 (in the signed manifest) then
 * cover everything that follows. tar, because it streams, every tool can list it (`tar tvf`), and
 * a well-kept library reads it (npm's own `tar`).
 *
 * On the A/B layout (image/ab-slots.md) a slot is one partition: its root file system, which holds
 * its own kernel and initramfs in /boot. The shared boot partition (firmware, boot loader, the
 * admin's thinkiosk.conf) is never part of an update, so a bundle carries the root only. (The first
 * bundles also carried a boot partition image; no kiosk ever installed one.)
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { VERSION_PATTERN } from './version.js';

export const BUNDLE_FORMAT = 1;
export const BUNDLE_PRODUCT = 'thinkiosk';
/** The file name's ending: next to `.img.xz`, and nothing else uses it. */
export const BUNDLE_EXTENSION = '.tkupdate';
export const MANIFEST_ENTRY = 'manifest.json';
export const SIGNATURE_ENTRY = 'manifest.sig';
/** An Ed25519 signature is 64 bytes; anything else in that entry is not one. */
export const SIGNATURE_BYTES = 64;
/** A manifest is a few hundred bytes; a bundle whose first entry is larger is not ours. */
export const MANIFEST_MAX_BYTES = 64 * 1024;

/** Where a kiosk keeps the public keys it trusts (one PEM file `<key id>.pub` each). */
export const TRUSTED_KEYS_DIR = '/usr/share/thinkiosk/update-keys';

export const PAYLOAD_ROLES = ['root'] as const;
export type PayloadRole = (typeof PAYLOAD_ROLES)[number];
/** The order payloads are written into a slot (and stored in a bundle). */
export const INSTALL_ORDER: readonly PayloadRole[] = ['root'];

export const COMPRESSIONS = ['gzip', 'brotli'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const ARCHITECTURES = ['arm64', 'amd64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{16}$/;

export const BundlePayload = z.strictObject({
  /** The slot partition it is written into. */
  role: z.enum(PAYLOAD_ROLES),
  /** The tar entry that holds it. */
  entry: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
  /** What the partition holds once written (for people and for the slot tools). */
  filesystem: z.enum(['ext4']),
  /** The file system's own label as the build made it (TKROOT-A: the build's root is slot A's; the installer renames it for the slot it writes). */
  fsLabel: z.string().min(1).max(16),
  /** Bytes written into the partition: the whole file system image. */
  size: z.number().int().positive(),
  sha256: z.string().regex(SHA256_HEX),
  compression: z.enum(COMPRESSIONS),
  /** Bytes of the entry in the bundle (what is downloaded). */
  compressedSize: z.number().int().positive(),
  compressedSha256: z.string().regex(SHA256_HEX),
});
export type BundlePayload = z.infer<typeof BundlePayload>;

export const BundleManifest = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  product: z.literal(BUNDLE_PRODUCT),
  /** package.json's version: what decides "newer" (a kiosk never installs a lower one unless told). */
  version: z.string().regex(VERSION_PATTERN, 'a version like 1.2.3 or 1.2.3-rc.1'),
  /** Which build: the time it was made and its input hash (two builds of one version differ here). */
  build: z.string().min(1).max(100),
  architecture: z.enum(ARCHITECTURES),
  created: z.iso.datetime(),
  /** The id (keyIdOf) of the key that signed this manifest. */
  keyId: z.string().regex(KEY_ID),
  payloads: z.array(BundlePayload).min(1).max(PAYLOAD_ROLES.length),
}).superRefine((manifest, ctx) => {
  const roles = manifest.payloads.map((p) => p.role);
  const entries = manifest.payloads.map((p) => p.entry);
  if (new Set(roles).size !== roles.length) ctx.addIssue({ code: 'custom', message: 'a partition role is named twice' });
  if (new Set(entries).size !== entries.length || entries.some((e) => e === MANIFEST_ENTRY || e === SIGNATURE_ENTRY)) {
    ctx.addIssue({ code: 'custom', message: 'payload entry names must be unique and not the manifest\'s' });
  }
  const order = INSTALL_ORDER.filter((role) => roles.includes(role));
  if (order.some((role, i) => roles[i] !== role)) ctx.addIssue({ code: 'custom', message: `payloads must come in the order ${INSTALL_ORDER.join(', ')}` });
});
export type BundleManifest = z.infer<typeof BundleManifest>;

/** The tar entry name of a payload: `root.ext4.gz`, `root.ext4.br`. */
export function payloadEntryName(role: PayloadRole, filesystem: BundlePayload['filesystem'], compression: Compression): string {
  return `${role}.${filesystem}.${compression === 'gzip' ? 'gz' : 'br'}`;
}

/**
 * A key's id: the first 16 hex digits of the sha256 of its public key (SPKI DER). The manifest
 * names it, a kiosk finds the key by it (`<key id>.pub`), and the image cache key includes it.
 */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error(`update keys are Ed25519, not ${publicKey.asymmetricKeyType ?? key.type}`);
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

interface ParsedVersion { core: [number, number, number]; pre: string | undefined }

function parseVersion(version: string): ParsedVersion {
  const m = VERSION_PATTERN.exec(version);
  if (!m) throw new Error(`"${version}" is not a version like 1.2.3`);
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] };
}

/** Semantic-version order (core numbers, then a pre-release sorts before its release). */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  for (let i = 0; i < 3; i++) {
    const d = pa.core[i]! - pb.core[i]!;
    if (d !== 0) return Math.sign(d);
  }
  if (pa.pre === pb.pre) return 0;
  if (pa.pre === undefined) return 1;
  if (pb.pre === undefined) return -1;
  const xs = pa.pre.split('.');
  const ys = pb.pre.split('.');
  for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
    const x = xs[i];
    const y = ys[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : undefined;
    const ny = /^\d+$/.test(y) ? Number(y) : undefined;
    if (nx !== undefined && ny !== undefined) { if (nx !== ny) return Math.sign(nx - ny); continue; }
    if (nx !== undefined) return -1;
    if (ny !== undefined) return 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
