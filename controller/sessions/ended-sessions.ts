/**
 * Sessions that ended before their time (logout): refused by every instance that shares `stateDir`
 * and after restarts, whatever Keystone said about revoking the token. One empty file per ended
 * session, named by its id, holding its expiry; files of sessions past their expiry are removed.
 * Without a directory the list is kept in memory only (one instance, until it restarts).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../contract/files/atomic-write.js';
import type { Logger } from '../core/log.js';

/** Session ids are base64url (16 random bytes, or a SHA-256 for older tokens): safe as file names. */
const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;
const PRUNE_EVERY_MS = 3_600_000;

export class EndedSessions {
  private readonly memory = new Map<string, number>();
  private readonly dir: string | null;
  private lastPrune = 0;

  constructor(stateDir: string | null, private readonly logger: Logger, private readonly now: () => number = Date.now) {
    this.dir = stateDir ? join(stateDir, 'ended-sessions') : null;
    if (this.dir) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.prune();
    }
  }

  /** Records the end; throws only when the shared directory cannot be written (the logout must then say so). */
  end(sessionId: string, expiresAt: number): void {
    if (!SESSION_ID.test(sessionId)) throw new Error(`not a session id: ${sessionId.slice(0, 80)}`);
    this.memory.set(sessionId, expiresAt);
    if (this.dir) {
      // Whole or not at all: a half-written expiry would read as an early one, and the session be forgotten too soon.
      writeFileAtomic(join(this.dir, sessionId), String(expiresAt), { mode: 0o600 });
    }
    this.maybePrune();
  }

  isEnded(sessionId: string): boolean {
    if (this.memory.has(sessionId)) return true;
    if (!this.dir || !SESSION_ID.test(sessionId)) return false;
    try {
      statSync(join(this.dir, sessionId));
    } catch {
      return false;
    }
    // Another instance (or this one before a restart) ended it: remember here too.
    this.memory.set(sessionId, this.readExpiry(sessionId));
    return true;
  }

  private readExpiry(sessionId: string): number {
    try {
      return Number(readFileSync(join(this.dir!, sessionId), 'utf8')) || this.now() + 86_400_000;
    } catch {
      return this.now() + 86_400_000;
    }
  }

  private maybePrune(): void {
    if (this.now() - this.lastPrune > PRUNE_EVERY_MS) this.prune();
  }

  /** Forgets sessions past their expiry: their tokens are refused for that reason anyway. */
  private prune(): void {
    const now = this.now();
    this.lastPrune = now;
    for (const [id, expiresAt] of this.memory) if (expiresAt < now) this.memory.delete(id);
    if (!this.dir) return;
    try {
      for (const name of readdirSync(this.dir)) {
        if (!SESSION_ID.test(name)) continue;
        if (this.readExpiry(name) < now) rmSync(join(this.dir, name), { force: true });
      }
    } catch (error) {
      this.logger.log('warn', 'ended-sessions-prune-failed', { dir: this.dir, error: String(error) });
    }
  }
}
