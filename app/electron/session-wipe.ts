/**
 * Nothing of one person reaches the next: when a session ends (logout, idle, expiry), everything
 * the kiosk window's browser session holds is cleared — cookies, local and session-scoped storage,
 * IndexedDB, service workers and cache storage, the HTTP and shader caches, HTTP authentication
 * and the host name cache — and the page is then loaded afresh (kiosk-window.ts), so not even its
 * memory carries anything over. The window's session is in memory only (window-options.ts), so
 * none of it was ever on disk; this clears it from memory.
 */
import type { KioskSession } from './electron-surface.js';

/** Clears the session; returns what could not be cleared (empty when all went well). */
export async function wipeBrowsingData(session: KioskSession): Promise<string[]> {
  const steps: [string, () => Promise<void>][] = [
    // Every kind of browsing data Chromium's BrowsingDataRemover knows, cookies and caches included.
    ['all browsing data', () => session.clearData()],
    // The storages clearData leaves to this older call (shader cache, file systems).
    ['storage', () => session.clearStorageData()],
    ['HTTP cache', () => session.clearCache()],
    ['HTTP authentication', () => session.clearAuthCache()],
    ['host name cache', () => session.clearHostResolverCache()],
  ];
  const failed: string[] = [];
  for (const [what, clear] of steps) {
    try {
      await clear();
    } catch (error) {
      failed.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  session.flushStorageData();
  return failed;
}
