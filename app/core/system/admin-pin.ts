/**
 * The admin PIN: stored only as an scrypt hash (`scrypt$N$r$p$salt$hash`, salt and hash base64),
 * checked in constant time, and guarded against guessing: after 5 wrong PINs in a row the screen
 * refuses PINs for a while, twice as long after each further wrong one. A 4-digit PIN has only
 * 10 000 values, so the lockout, not the hash, is what stops someone trying them at the kiosk; the
 * hash keeps the PIN out of the settings file and the boot partition.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { SystemError } from './system-error.js';

/** 16 MiB and ~0.1 s per check on a Raspberry Pi 4: unnoticeable at the screen. */
const COST = { N: 16384, r: 8, p: 1 };
const KEY_BYTES = 32;
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
/** What the admin may choose (kiosk-api's adminSetPin) and a boot-partition preset may hold. */
const PIN = /^\d{4,12}$/;

export function isPinHash(value: string): boolean {
  return parseHash(value) !== null;
}

export async function hashPin(pin: string): Promise<string> {
  if (!PIN.test(pin)) throw new SystemError('invalid-input', 'The PIN must be 4 to 12 digits.', `pin of length ${pin.length} rejected`);
  const salt = randomBytes(16);
  const hash = await derive(pin, salt, KEY_BYTES, COST);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** True when `pin` matches `stored`. A damaged hash is an error, not a silent "wrong PIN" forever. */
export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) {
    throw new SystemError('system', 'The saved admin PIN is damaged, so no PIN can be accepted. Set a new one in the boot partition\'s kiosk configuration (adminPin) and restart.', 'stored admin PIN hash does not parse');
  }
  const candidate = await derive(pin, parsed.salt, parsed.hash.length, parsed);
  return timingSafeEqual(candidate, parsed.hash);
}

/**
 * For the first boot: the boot partition's configuration may hold the PIN in plain digits (easy to
 * write on any computer); it is replaced by its hash. A value that is already a hash stays as it is.
 */
export async function hashPinIfPlain(value: string): Promise<{ hash: string; wasPlain: boolean }> {
  const trimmed = value.trim();
  if (isPinHash(trimmed)) return { hash: trimmed, wasPlain: false };
  if (PIN.test(trimmed)) return { hash: await hashPin(trimmed), wasPlain: true };
  throw new SystemError('invalid-input', 'The admin PIN in the boot configuration must be 4 to 12 digits (or a hash made by the kiosk).', 'adminPin preset is neither digits nor a PIN hash');
}

export interface PinGuardOptions {
  /** Wrong PINs in a row before the first lock. */
  maxAttempts?: number;
  /** First lock; each wrong PIN after it doubles the lock, up to `maxLockSeconds`. */
  lockSeconds?: number;
  maxLockSeconds?: number;
  now?: () => number;
}

/** Counts wrong PINs in memory (a restart clears it, which takes longer than the lock anyway). */
export class PinGuard {
  private failures = 0;
  private lockedUntil = 0;
  private readonly maxAttempts: number;
  private readonly lockSeconds: number;
  private readonly maxLockSeconds: number;
  private readonly now: () => number;

  constructor(options: PinGuardOptions = {}) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.lockSeconds = options.lockSeconds ?? 30;
    this.maxLockSeconds = options.maxLockSeconds ?? 3600;
    this.now = options.now ?? Date.now;
  }

  /** Seconds until a PIN is accepted for checking again; 0 when it is now. */
  retryAfterSeconds(): number {
    return Math.max(0, Math.ceil((this.lockedUntil - this.now()) / 1000));
  }

  /**
   * Checks `pin` against `stored`, counting the result. While locked, no PIN is checked at all
   * (not even the right one), so guessing cannot continue during the lock. Each attempt counts as
   * wrong from the moment it arrives, before the (slow, asynchronous) hash check: PINs sent all at
   * once cannot slip past the limit while the first ones are still being checked.
   */
  async check(pin: string, stored: string): Promise<boolean> {
    const wait = this.retryAfterSeconds();
    if (wait > 0) throw lockedOut(wait);
    const before = { failures: this.failures, lockedUntil: this.lockedUntil };
    this.failures += 1;
    if (this.failures >= this.maxAttempts) {
      const doublings = this.failures - this.maxAttempts;
      const seconds = Math.min(this.maxLockSeconds, this.lockSeconds * 2 ** Math.min(doublings, 30));
      this.lockedUntil = this.now() + seconds * 1000;
    }
    let ok: boolean;
    try {
      ok = await verifyPin(pin, stored);
    } catch (error) {
      // Not an attempt that was judged (the stored hash is damaged): it does not count.
      this.failures = before.failures;
      this.lockedUntil = before.lockedUntil;
      throw error;
    }
    if (ok) {
      this.failures = 0;
      this.lockedUntil = 0;
    }
    return ok;
  }
}

function lockedOut(seconds: number): SystemError {
  const wait = seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`;
  return new SystemError('too-many-attempts', `Too many wrong PINs. Try again in ${wait}.`, `admin PIN locked for ${seconds} s more`);
}

function parseHash(value: string): { N: number; r: number; p: number; salt: Buffer; hash: Buffer } | null {
  const m = FORMAT.exec(value);
  if (!m) return null;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounded cost, so a hash planted in the boot configuration cannot make each check take minutes.
  if (N < 1024 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16 || 128 * N * r > MAX_SCRYPT_MEMORY) return null;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16) return null;
  return { N, r, p, salt, hash };
}

function derive(pin: string, salt: Buffer, length: number, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node's default ceiling (32 MiB) would refuse costs parseHash allows.
  const maxmem = 2 * MAX_SCRYPT_MEMORY;
  return new Promise((resolve, reject) => {
    scrypt(pin, salt, length, { ...cost, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
