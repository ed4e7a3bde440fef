/**
 * The boot server's on/off switch as the kiosk's admin screen sets it. The kiosk runs unprivileged
 * and cannot start services, so it only writes its choice into its own settings directory (on the
 * persistent settings partition, so it survives reboots); the boot server service (root, always
 * running on the image) watches that file and serves or stops. The admin's choice, once made,
 * wins over `boot_server = on` in the boot partition's thinkiosk.conf and over `enabled:` in the
 * boot server's configuration, which only say what happens until an admin chooses.
 *
 *   <settings dir>/boot-server.json   {"enabled": true, "changedAt": "2026-11-23T10:00:00.000Z"}
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export const SWITCH_FILE = 'boot-server.json';
/** Where the image's kiosk keeps its settings (THINKIOSK_SETTINGS_DIR of the kiosk service). */
export const DEFAULT_SWITCH_PATH = `/var/lib/thinkiosk/settings/${SWITCH_FILE}`;

const BootServerSwitch = z.object({ enabled: z.boolean(), changedAt: z.string() });
export type BootServerSwitch = z.infer<typeof BootServerSwitch>;

/** The admin's choice, or null when none was made (or the file is unreadable: then the defaults hold). */
export function readBootServerSwitch(path: string): BootServerSwitch | null {
  try {
    const parsed = BootServerSwitch.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Saves the admin's choice atomically (a half-written file would read as "no choice"). */
export function writeBootServerSwitch(settingsDir: string, enabled: boolean, now = new Date()): BootServerSwitch {
  const value: BootServerSwitch = { enabled, changedAt: now.toISOString() };
  const file = join(settingsDir, SWITCH_FILE);
  writeFileSync(`${file}.new`, `${JSON.stringify(value)}\n`, { mode: 0o644 });
  renameSync(`${file}.new`, file);
  return value;
}
