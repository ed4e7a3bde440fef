/**
 * Password hashes for the static inventory: scrypt (memory-hard, in Node's standard library), in
 * one self-describing string so the cost can rise later without breaking existing entries:
 *   scrypt$<N>$<r>$<p>$<salt, base64>$<hash, base64>
 * Make one with `node dist/controller/hash-password.js`.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** About 50 ms and 16 MiB per check on a small server: slow for guessing, fine for a login. */
const DEFAULT = { N: 16384, r: 8, p: 1 };
const KEY_BYTES = 32;
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export interface ParsedHash { N: number; r: number; p: number; salt: Buffer; hash: Buffer }

/** The hash's parts, or a sentence saying what is wrong with it (for inventory validation). */
export function parsePasswordHash(text: string): ParsedHash | string {
  const m = FORMAT.exec(text);
  if (!m) return 'is not a password hash made by hash-password (scrypt$N$r$p$salt$hash); never store a plain password';
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 1024 || (N & (N - 1)) !== 0 || N > 2 ** 20) return 'has an scrypt N that is not a power of two between 1024 and 1048576';
  if (r < 1 || r > 32 || p < 1 || p > 16) return 'has scrypt r or p out of range';
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16) return 'has a salt or hash that is too short';
  return { N, r, p, salt, hash };
}

export async function hashPassword(password: string, cost = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, KEY_BYTES, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: ParsedHash): Promise<boolean> {
  const candidate = await derive(password, stored.salt, stored.hash.length, stored);
  return timingSafeEqual(candidate, stored.hash);
}

function derive(password: string, salt: Buffer, length: number, { N, r, p }: { N: number; r: number; p: number }): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is exactly 128·N·r for N=32768: leave room for stronger settings.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key))));
}
