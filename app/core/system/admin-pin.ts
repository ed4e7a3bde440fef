/**
 * The admin PIN: stored only as a hash in the shared scrypt format (contract/scrypt-hash.ts, the
 * same as the controller's password hashes), checked in constant time, and guarded against
 * guessing: after 5 wrong PINs in a row the screen refuses PINs for a while, twice as long after
 * each further wrong one. A 4-digit PIN has only 10 000 values, so the lockout, not the hash, is
 * what stops someone trying them at the kiosk; the hash keeps the PIN out of the settings file and
 * the boot partition.
 */
import { makeScryptHash, parseScryptHash, verifyScryptHash, type ScryptHash } from '../../../contract/scrypt-hash.js';
import { SystemError } from './system-error.js';

/** A hash planted in the boot configuration must not make each check take minutes or all the memory. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
/** What the admin may choose (kiosk-api's adminSetPin) and a boot-partition preset may hold. */
const PIN = /^\d{4,12}$/;

export function isPinHash(value: string): boolean {
  return parseHash(value) !== null;
}

export async function hashPin(pin: string): Promise<string> {
  if (!PIN.test(pin)) throw new SystemError('invalid-input', 'The PIN must be 4 to 12 digits.', `pin of length ${pin.length} rejected`);
  return makeScryptHash(pin);
}

/** True when `pin` matches `stored`. A damaged hash is an error, not a silent "wrong PIN" forever. */
export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) {
    throw new SystemError('system', 'The saved admin PIN is damaged, so no PIN can be accepted. Set a new one in the boot partition\'s kiosk configuration (adminPin) and restart.', 'stored admin PIN hash does not parse');
  }
  return verifyScryptHash(pin, parsed);
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

function parseHash(value: string): ScryptHash | null {
  const parsed = parseScryptHash(value, { maxMemoryBytes: MAX_SCRYPT_MEMORY });
  return typeof parsed === 'string' ? null : parsed;
}
