/**
 * Who may call the browser shell's local server: the page in the Chromium the shell started last,
 * and nothing else. Whatever is on a command line is readable by every local user
 * (/proc/<pid>/cmdline), so no secret goes there. Instead each Chromium launch gets a one-time
 * bootstrap token, handed over in a file only the kiosk user can read (the launch's own profile,
 * app/shell/chromium-profile.ts); the page trades it once (`POST /bootstrap`) for the launch's key,
 * keeps the key in sessionStorage and sends it with every call. A new launch revokes every earlier
 * token and key: what an earlier Chromium (an earlier person's) knew stops working.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

interface Launch {
  readonly number: number;
  /** Null once traded for the key. */
  token: string | null;
  readonly key: string;
}

export class LaunchKeys {
  private current: Launch | null = null;
  private count = 0;
  private readonly listeners = new Set<(launch: number) => void>();

  /** A new Chromium is about to start: earlier tokens and keys stop working. Returns its one-time token. */
  beginLaunch(): { launch: number; token: string } {
    const token = secret();
    this.current = { number: ++this.count, token, key: secret() };
    return { launch: this.count, token };
  }

  /** The launch's key for its token, once; null for any other token, or the same one again. */
  exchange(token: string): string | null {
    const launch = this.current;
    if (!launch?.token || !sameSecret(token, launch.token)) return null;
    launch.token = null;
    for (const listener of this.listeners) listener(launch.number);
    return launch.key;
  }

  /** True for the current launch's key only. */
  accepts(key: string | undefined): boolean {
    return key !== undefined && this.current !== null && sameSecret(key, this.current.key);
  }

  /** Called with the launch's number when its page has traded its token: that page has loaded and runs. */
  onExchange(listener: (launch: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function secret(): string {
  return randomBytes(24).toString('base64url');
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
