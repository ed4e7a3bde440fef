/**
 * Brute-force protection for logins, per shim instance and in memory (a load balancer spreading
 * one attacker over N instances gives them N times the budget, still tiny). Failed logins are
 * counted per (address, username) and per address; past the limit, that key is locked for a
 * while that doubles with every further failure. A success clears the user's counter.
 */
export interface LoginGuardOptions {
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  windowSeconds: number;
  lockoutSeconds: number;
}

interface Entry { failures: number; firstAt: number; lockedUntil: number }

export class LoginGuard {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: LoginGuardOptions, private readonly now: () => number = Date.now) {}

  /** Seconds until this login may be tried, or 0 when it may go ahead. */
  retryAfter(address: string, username: string): number {
    const t = this.now();
    const wait = Math.max(this.lockedFor(`u|${address}|${username.toLowerCase()}`, t), this.lockedFor(`a|${address}`, t));
    return Math.ceil(wait / 1000);
  }

  recordFailure(address: string, username: string): void {
    this.bump(`u|${address}|${username.toLowerCase()}`, this.options.maxFailuresPerUser);
    this.bump(`a|${address}`, this.options.maxFailuresPerAddress);
  }

  recordSuccess(address: string, username: string): void {
    this.entries.delete(`u|${address}|${username.toLowerCase()}`);
  }

  private lockedFor(key: string, t: number): number {
    const entry = this.entries.get(key);
    return entry ? Math.max(0, entry.lockedUntil - t) : 0;
  }

  private bump(key: string, limit: number): void {
    const t = this.now();
    let entry = this.entries.get(key);
    if (!entry || t - entry.firstAt > this.options.windowSeconds * 1000) {
      entry = { failures: 0, firstAt: t, lockedUntil: 0 };
      this.entries.set(key, entry);
    }
    entry.failures += 1;
    if (entry.failures >= limit) {
      const factor = 2 ** Math.min(entry.failures - limit, 6);
      entry.lockedUntil = t + this.options.lockoutSeconds * 1000 * factor;
    }
    if (this.entries.size > 100_000) this.prune(t);
  }

  private prune(t: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.lockedUntil < t && t - entry.firstAt > this.options.windowSeconds * 1000) this.entries.delete(key);
    }
  }
}
