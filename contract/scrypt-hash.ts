/**
 * The one format of a secret stored as a hash: users' passwords in the controller's static
 * inventory (controller/password-hash.ts) and the kiosk's admin PIN in its settings, the boot
 * partition's preset and the boot server's client presets (app/core/system/admin-pin.ts). Both
 * always wrote the same string, so every hash already in the field reads here:
 *
 *   scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>
 *
 * scrypt is memory-hard and in Node's standard library; the string names its own cost, so the
 * cost can rise later without breaking existing entries. What a secret may be (a PIN's digits) and
 * what a problem means to its reader stay with each program.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptCost { N: number; r: number; p: number }
export interface ScryptHash extends ScryptCost { salt: Buffer; hash: Buffer }

/** 16 MiB per check: about 50 ms on a small server, 0.1 s on a Raspberry Pi 4. Slow for guessing, fine for a login. */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 16384, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** What parseScryptHash says of text that is not in the format at all (each program words its own advice). */
export const NOT_AN_SCRYPT_HASH = 'is not an scrypt hash (scrypt$N$r$p$salt$hash)';

export interface ScryptLimits {
  /**
   * Refuse a cost that needs more memory per check (scrypt takes 128·N·r bytes), so that a hash
   * planted where others may write cannot make each check take minutes. Default: no limit beyond
   * N ≤ 2^20, r ≤ 32.
   */
  maxMemoryBytes?: number;
}

/** The hash's parts, or a sentence saying what is wrong with it ("<the value> has ..."). */
export function parseScryptHash(text: string, { maxMemoryBytes = Infinity }: ScryptLimits = {}): ScryptHash | string {
  const m = FORMAT.exec(text);
  if (!m) return NOT_AN_SCRYPT_HASH;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 1024 || (N & (N - 1)) !== 0 || N > 2 ** 20) return 'has an scrypt N that is not a power of two between 1024 and 1048576';
  if (r < 1 || r > 32 || p < 1 || p > 16) return 'has scrypt r or p out of range';
  if (128 * N * r > maxMemoryBytes) return `has an scrypt cost that needs more than ${Math.round(maxMemoryBytes / 2 ** 20)} MiB per check`;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16) return 'has a salt or hash that is too short';
  return { N, r, p, salt, hash };
}

/** A fresh salt each time: the same secret never gives the same string twice. */
export async function makeScryptHash(secret: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, KEY_BYTES, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Compared in constant time, so the time a wrong secret takes says nothing about the hash. */
export async function verifyScryptHash(secret: string, stored: ScryptHash): Promise<boolean> {
  const candidate = await derive(secret, stored.salt, stored.hash.length, stored);
  return timingSafeEqual(candidate, stored.hash);
}

/**
 * The secret is hashed as NFC: a password typed on another keyboard (é as one code point or as e
 * plus an accent) still matches. Digits are the same in every form, so PIN hashes are unaffected.
 */
function derive(secret: string, salt: Buffer, length: number, { N, r, p }: ScryptCost): Promise<Buffer> {
  // scrypt needs 128·N·r bytes and Node's default ceiling (32 MiB) is exactly that for N=32768: leave room for stronger costs.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(secret.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key))));
}
