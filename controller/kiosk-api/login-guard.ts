/**
 * Brute-force protection for logins, per shim instance and in memory (a load balancer spreading
 * one attacker over N instances gives them N times the budget, still tiny).
 *
 * - Per (address, user name): after `maxFailuresPerUser` failures that key is locked for a while
 *   that doubles with every further failure; a success clears it.
 * - Per address: failures for user names that never then logged in from that address count
 *   towards `maxFailuresPerAddress`. A classroom behind one NAT makes typos, but its people then
 *   log in, which forgives their failures; an address spraying passwords over many names never
 *   does, and is locked as a whole.
 * - Attempts in flight count as failures until they are settled, so forty guesses sent at once
 *   get the same answer as forty sent one after another: only the first few reach the backend.
 */
export interface LoginGuardOptions {
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  windowSeconds: number;
  lockoutSeconds: number;
}

/** One login attempt that was let through: settle it exactly once. */
export interface LoginAttempt {
  /** Wrong credentials. */
  failed(): void;
  succeeded(): void;
  /** Neither (the backend failed): it counts for nothing. */
  abandoned(): void;
}

export type Admission =
  | { admitted: true; attempt: LoginAttempt }
  /** `busy`: refused only because enough attempts for this key are still being checked. */
  | { admitted: false; retryAfterSeconds: number; busy: boolean };

interface UserEntry { failures: number; firstAt: number; lockedUntil: number; inFlight: number }
interface AddressEntry { failuresByUser: Map<string, number>; firstAt: number; lockedUntil: number; inFlight: number }

/** How long a caller refused only for attempts in flight should wait: they settle within seconds. */
const IN_FLIGHT_WAIT_SECONDS = 2;

export class LoginGuard {
  private readonly users = new Map<string, UserEntry>();
  private readonly addresses = new Map<string, AddressEntry>();

  constructor(private readonly options: LoginGuardOptions, private readonly now: () => number = Date.now) {}

  begin(address: string, username: string): Admission {
    const t = this.now();
    const name = username.toLowerCase();
    const user = this.userEntry(`${address}\n${name}`, t);
    const place = this.addressEntry(address, t);
    const lockedFor = Math.max(user.lockedUntil - t, place.lockedUntil - t, 0);
    if (lockedFor > 0) return { admitted: false, retryAfterSeconds: Math.ceil(lockedFor / 1000), busy: false };
    const placeFailures = sum(place.failuresByUser);
    // Past the limit (its lock served), one attempt at a time, each failure locking for longer.
    const userRoom = Math.max(1, this.options.maxFailuresPerUser - user.failures);
    const placeRoom = Math.max(1, this.options.maxFailuresPerAddress - placeFailures);
    if (user.inFlight >= userRoom || place.inFlight >= placeRoom) {
      return { admitted: false, retryAfterSeconds: IN_FLIGHT_WAIT_SECONDS, busy: true };
    }
    user.inFlight += 1;
    place.inFlight += 1;
    let settled = false;
    const settle = (work: () => void): void => {
      if (settled) return;
      settled = true;
      user.inFlight -= 1;
      place.inFlight -= 1;
      work();
      this.forgetIdle(address, name);
    };
    return {
      admitted: true,
      attempt: {
        failed: () => settle(() => {
          const now = this.now();
          user.failures += 1;
          if (user.failures >= this.options.maxFailuresPerUser) user.lockedUntil = now + this.lockMs(user.failures - this.options.maxFailuresPerUser);
          place.failuresByUser.set(name, (place.failuresByUser.get(name) ?? 0) + 1);
          const total = sum(place.failuresByUser);
          if (total >= this.options.maxFailuresPerAddress) place.lockedUntil = now + this.lockMs(total - this.options.maxFailuresPerAddress);
        }),
        succeeded: () => settle(() => {
          user.failures = 0;
          user.lockedUntil = 0;
          place.failuresByUser.delete(name);
        }),
        abandoned: () => settle(() => undefined),
      },
    };
  }

  private lockMs(beyondLimit: number): number {
    return this.options.lockoutSeconds * 1000 * 2 ** Math.min(beyondLimit, 6);
  }

  private userEntry(key: string, t: number): UserEntry {
    let entry = this.users.get(key);
    if (!entry || (this.expired(entry.firstAt, t) && entry.lockedUntil < t && entry.inFlight === 0)) {
      entry = { failures: 0, firstAt: t, lockedUntil: 0, inFlight: entry?.inFlight ?? 0 };
      this.users.set(key, entry);
    }
    return entry;
  }

  private addressEntry(address: string, t: number): AddressEntry {
    let entry = this.addresses.get(address);
    if (!entry || (this.expired(entry.firstAt, t) && entry.lockedUntil < t && entry.inFlight === 0)) {
      entry = { failuresByUser: new Map(), firstAt: t, lockedUntil: 0, inFlight: entry?.inFlight ?? 0 };
      this.addresses.set(address, entry);
    }
    return entry;
  }

  private expired(firstAt: number, t: number): boolean {
    return t - firstAt > this.options.windowSeconds * 1000;
  }

  /** Entries with nothing to remember are dropped, so memory follows the attackers, not the users. */
  private forgetIdle(address: string, name: string): void {
    const key = `${address}\n${name}`;
    const user = this.users.get(key);
    if (user && user.inFlight === 0 && user.failures === 0 && user.lockedUntil === 0) this.users.delete(key);
    const place = this.addresses.get(address);
    if (place && place.inFlight === 0 && place.failuresByUser.size === 0 && place.lockedUntil === 0) this.addresses.delete(address);
    if (this.users.size + this.addresses.size > 100_000) this.prune();
  }

  private prune(): void {
    const t = this.now();
    for (const [key, e] of this.users) if (e.inFlight === 0 && e.lockedUntil < t && this.expired(e.firstAt, t)) this.users.delete(key);
    for (const [key, e] of this.addresses) if (e.inFlight === 0 && e.lockedUntil < t && this.expired(e.firstAt, t)) this.addresses.delete(key);
  }
}

function sum(counts: Map<string, number>): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}
