/**
 * The browser shell's Chromium profile: a fresh, private directory for every Chromium it starts,
 * seeded with the kiosk's preferences, and deleted when that Chromium ends. A new profile for each
 * person is what makes "nothing of one person reaches the next" hold whatever Chromium decides to
 * keep (saved logins, autofill, cookies, storage, history, caches, session restore): the next
 * person's Chromium has never seen any of it.
 *
 * The preferences are the user-level twins of the image's managed policies
 * (rootfs-overlay/etc/chromium/policies/managed/thinkiosk.json), for machines where the shell
 * cannot write root-owned policy files (a developer's machine, the demo). Where both exist, the
 * policies win. The page's address, with the launch's one-time token, goes in here too
 * (`session.startup_urls`): a file only the kiosk user can read, where a command line is readable by
 * every local user.
 */
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export const PROFILE_PREFIX = 'thinkiosk-chromium-';

const BLOCK = 2; // Chromium's content setting "block"

/** The kiosk's Chromium preferences (Default/Preferences) for a page at `startUrl` on `origin`. */
export function kioskPreferences(startUrl: string, origin: string): Record<string, unknown> {
  return {
    // Never offer to save a password, never fill one in, never sign in to one automatically.
    credentials_enable_service: false,
    credentials_enable_autosignin: false,
    // Never keep or fill in addresses, cards or other form entries.
    autofill: { profile_enabled: false, credit_card_enabled: false, enabled: false },
    payments: { can_make_payment_enabled: false },
    // No browser sign-in (the "Sign in to Chromium" way out of the kiosk) and so no sync.
    signin: { allowed: false, allowed_on_next_startup: false },
    // No developer tools, downloads, printing, incognito windows, bookmarks or browser history.
    devtools: { availability: 2 },
    download_restrictions: 3,
    printing: { enabled: false },
    incognito: { mode_availability: 1 },
    history: { saving_disabled: true },
    bookmarks: { editing_enabled: false },
    // Shift+Esc still shows Chromium's task manager (a window no setting removes); it may not end the kiosk's processes.
    task_manager: { end_process_enabled: false },
    bookmark_bar: { show_on_all_tabs: false },
    // The kiosk's own page and nothing else: no file://, chrome://, other sites, new tab pages.
    policy: { url_blocklist: ['*'], url_allowlist: [origin] },
    // Nothing that asks the person or talks to Google on its own.
    browser: { enable_spellchecking: false, has_seen_welcome_page: true, show_home_button: false },
    spellcheck: { use_spelling_service: false },
    translate: { enabled: false },
    search: { suggest_enabled: false },
    alternate_error_pages: { enabled: false },
    net: { network_prediction_options: 2 },
    profile: {
      // Pages may not ask for these; the kiosk page never needs them.
      default_content_setting_values: { notifications: BLOCK, geolocation: BLOCK, media_stream_camera: BLOCK, media_stream_mic: BLOCK, automatic_downloads: BLOCK, popups: BLOCK },
      password_manager_leak_detection: false,
    },
    // Where the first (and only) tab goes.
    session: { restore_on_startup: 4, startup_urls: [startUrl] },
  };
}

/**
 * The browser-wide preferences (the user data directory's "Local State"): no file chooser (Ctrl+O
 * opened one, a window onto the kiosk's files).
 */
export function kioskLocalState(): Record<string, unknown> {
  return { select_file_dialogs: { allowed: false } };
}

/** A new private profile (0700, under `parent`) for one Chromium launch; returns its directory. */
export function createProfile(startUrl: string, origin: string, parent: string = tmpdir()): string {
  const dir = mkdtempSync(join(parent, PROFILE_PREFIX));
  mkdirSync(join(dir, 'Default'), { mode: 0o700 });
  writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify(kioskPreferences(startUrl, origin)), { mode: 0o600 });
  writeFileSync(join(dir, 'Local State'), JSON.stringify(kioskLocalState()), { mode: 0o600 });
  return dir;
}

/**
 * Deletes a profile, and the directory of Chromium's single-instance socket that the profile links
 * to (it is made outside the profile, and a Chromium that was killed leaves it behind). Chromium's
 * last helper processes may still be writing, hence the retries.
 */
export function removeProfile(dir: string): void {
  let socketDir: string | null = null;
  try {
    socketDir = dirname(readlinkSync(join(dir, 'SingletonSocket')));
  } catch {
    // No socket link: Chromium never got that far.
  }
  if (socketDir && /^org\.chromium\.Chromium\.\w+$/.test(basename(socketDir))) rmSync(socketDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
