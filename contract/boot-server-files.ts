/**
 * The two files through which the kiosk's admin screen and the boot server (PXE, pxe/) talk. The
 * kiosk runs unprivileged and cannot start services, so it only writes the admin's choice, the
 * switch, into its own settings directory (on the persistent settings partition, so it survives
 * reboots); the boot server service (root, always running on the image) watches that file, serves
 * or stops, and writes its status, which the admin screen shows. The admin's choice, once made,
 * wins over `boot_server = on` in the boot partition's thinkiosk.conf and over `enabled:` in the
 * boot server's configuration, which only say what happens until an admin chooses.
 *
 *   <settings dir>/boot-server.json   the switch: {"enabled": true, "changedAt": "2026-11-23T10:00:00.000Z"}
 *   <state dir>/status.json           the service's status (BootServerStatus)
 *
 * Here rather than in pxe/ because the kiosk is packaged without pxe/. Each side reads what the
 * other wrote as external input: validated, and a damaged file is never taken for a good one. The
 * files' contents are in boot-server-schemas.ts, apart only because the kiosk's page (no Node)
 * shows the status and its types reach them.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BootServerStatus, BootServerSwitch } from './boot-server-schemas.js';
import { writeJsonAtomic, writeJsonAtomicAsync } from './files/atomic-write.js';

export { BootEvent, BootServerStatus, BootServerSwitch } from './boot-server-schemas.js';

export const SWITCH_FILE = 'boot-server.json';
export const STATUS_FILE = 'status.json';
/** Where the image's kiosk keeps its settings (THINKIOSK_SETTINGS_DIR of the kiosk service). */
export const DEFAULT_SETTINGS_DIR = '/var/lib/thinkiosk/settings';
export const DEFAULT_SWITCH_PATH = join(DEFAULT_SETTINGS_DIR, SWITCH_FILE);
/** The boot-server service's state directory on the image (the kiosk's THINKIOSK_BOOT_SERVER_STATE overrides it). */
export const DEFAULT_STATE_DIR = '/run/thinkiosk/boot-server';

/** The service writes a few tens of KiB; anything far larger is not its status. */
const MAX_STATUS_BYTES = 1024 * 1024;

/** The admin's choice, or null when none was made (or the file is damaged: then the defaults hold). */
export function readBootServerSwitch(switchPath: string): BootServerSwitch | null {
  try {
    const parsed = BootServerSwitch.safeParse(JSON.parse(readFileSync(switchPath, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null; // no file or not JSON: no choice made
  }
}

/** Saves the admin's choice atomically (a half-written file would read as "no choice"). */
export async function writeBootServerSwitch(switchPath: string, enabled: boolean, now = new Date()): Promise<BootServerSwitch> {
  const value: BootServerSwitch = { enabled, changedAt: now.toISOString() };
  await writeJsonAtomicAsync(switchPath, value, { mode: 0o644 });
  return value;
}

export type BootServerStatusReading =
  | { kind: 'missing' }
  /** `why` completes "<file> ...": "is not JSON". */
  | { kind: 'unreadable'; why: string }
  | { kind: 'ok'; status: BootServerStatus };

/** The status the service last wrote; missing when it never ran here. */
export function readBootServerStatus(stateDir: string): BootServerStatusReading {
  const file = join(stateDir, STATUS_FILE);
  let text: string;
  try {
    if (statSync(file).size > MAX_STATUS_BYTES) return { kind: 'unreadable', why: 'is far too large' };
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
    return { kind: 'unreadable', why: code === 'EACCES' ? 'may not be read by the kiosk' : `gives ${code ?? 'an error'}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'unreadable', why: 'is not JSON' };
  }
  const parsed = BootServerStatus.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { kind: 'unreadable', why: `is not a status this kiosk knows${issue ? `: ${issue.path.map(String).join('.') || 'the file'}: ${issue.message}` : ''}` };
  }
  return { kind: 'ok', status: parsed.data };
}

/** Written whole or not at all: the admin screen polls it while the service changes it. Readable by the unprivileged kiosk. */
export function writeBootServerStatus(stateDir: string, status: BootServerStatus): void {
  writeJsonAtomic(join(stateDir, STATUS_FILE), status, { mode: 0o644, pretty: true });
}
