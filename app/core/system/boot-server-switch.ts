/**
 * The boot server (PXE, pxe/) as the admin screen sees it: the admin's on/off switch and the status
 * the root boot-server service last wrote. The kiosk runs unprivileged and cannot start services:
 * it only writes the switch into its settings directory, and the service, which watches that file,
 * serves or stops a few seconds later.
 *
 * The files are pxe/'s contract (pxe/switch.ts, pxe/boot-server.ts), mirrored here rather than
 * imported because the kiosk is packaged without pxe/ (dist/app, dist/contract and dist/www only);
 * test/unit/system-boot-server-switch.test.ts checks both sides read what the other writes.
 *
 *   <settings dir>/boot-server.json   the switch: {"enabled": true, "changedAt": "…"}
 *   <state dir>/status.json           the service's status (written by root, read as external input)
 */
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BootServerEvent, type BootServerView } from '../kiosk-api.js';
import { SystemError } from './system-error.js';

export const SWITCH_FILE = 'boot-server.json';
export const STATUS_FILE = 'status.json';
/** The boot-server service's state directory on the image (THINKIOSK_BOOT_SERVER_STATE overrides it). */
export const DEFAULT_STATE_DIR = '/run/thinkiosk/boot-server';
/** The image's kiosk settings directory, for callers that do not name one. */
export const DEFAULT_SETTINGS_DIR = '/var/lib/thinkiosk/settings';

/** Events shown on the admin screen; the service keeps up to 200. */
const SHOWN_EVENTS = 8;
/** The service writes a few tens of KiB; anything far larger is not its status. */
const MAX_STATUS_BYTES = 1024 * 1024;

const SwitchFile = z.object({ enabled: z.boolean(), changedAt: z.string() });

const StatusFile = z.object({
  state: z.enum(['off', 'starting', 'running', 'stopped', 'failed']),
  reason: z.string().optional(),
  since: z.string(),
  mode: z.enum(['proxy', 'full']),
  interface: z.string(),
  address: z.string().nullable(),
  httpUrl: z.string().nullable(),
  arches: z.array(z.string()),
  problems: z.array(z.string()),
  error: z.string().nullable(),
  events: z.array(BootServerEvent),
});
type StatusFile = z.infer<typeof StatusFile>;

export interface BootServerSwitchOptions {
  /** The kiosk's settings directory, where the switch file goes. */
  settingsDir: string;
  /** The boot-server service's state directory, where it writes status.json. */
  stateDir: string;
  /** Set when this kiosk was itself netbooted (THINKIOSK_BOOT_SOURCE, e.g. "netboot from 10.0.0.2"). */
  netbootedFrom?: string | null;
  now?: () => Date;
}

export class BootServerSwitch {
  constructor(private readonly options: BootServerSwitchOptions) {}

  get switchPath(): string {
    return join(this.options.settingsDir, SWITCH_FILE);
  }

  get statusPath(): string {
    return join(this.options.stateDir, STATUS_FILE);
  }

  async status(): Promise<BootServerView> {
    const [choice, status] = await Promise.all([this.readSwitch(), this.readStatus()]);
    const view: BootServerView = {
      switch: choice ? (choice.enabled ? 'on' : 'off') : 'not-chosen',
      switchChangedAt: choice?.changedAt ?? null,
      unavailable: this.unavailable(),
      state: 'not-installed', reason: null, since: null, mode: null, interface: null, address: null, httpUrl: null,
      arches: [], problems: [], error: null, clients: 0, events: [],
    };
    if (status.kind === 'missing') return view;
    if (status.kind === 'unreadable') return { ...view, state: 'unknown', error: status.sentence };
    const s = status.value;
    return {
      ...view,
      state: s.state, reason: s.reason ?? null, since: s.since, mode: s.mode, interface: s.interface, address: s.address,
      httpUrl: s.httpUrl, arches: s.arches, problems: s.problems, error: s.error, clients: countClients(s.events),
      events: s.events.slice(-SHOWN_EVENTS),
    };
  }

  /** Saves the admin's choice (atomically: a half-written file would read as "no choice") and returns the fresh view. */
  async set(enabled: boolean): Promise<BootServerView> {
    const unavailable = this.unavailable();
    if (unavailable) throw new SystemError('forbidden', unavailable, `boot server switch refused: netbooted (${this.options.netbootedFrom})`);
    const value = { enabled, changedAt: (this.options.now?.() ?? new Date()).toISOString() };
    try {
      await writeFile(`${this.switchPath}.new`, `${JSON.stringify(value)}\n`, { mode: 0o644 });
      await rename(`${this.switchPath}.new`, this.switchPath);
    } catch (error) {
      throw new SystemError('system', 'The boot server switch could not be saved: the kiosk\'s settings are not writable. Restart the kiosk; if it keeps happening, check its storage.',
        `writing ${this.switchPath}: ${(error as Error).message}`);
    }
    return this.status();
  }

  private unavailable(): string | null {
    const source = this.options.netbootedFrom;
    return source
      ? `This kiosk was itself started over the network (${source}): a netbooted client cannot serve others. Turn the boot server on on a kiosk that boots from its own disk.`
      : null;
  }

  private async readSwitch(): Promise<z.infer<typeof SwitchFile> | null> {
    try {
      const parsed = SwitchFile.safeParse(JSON.parse(await readFile(this.switchPath, 'utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null; // no file or not JSON: no choice made, as the service reads it too
    }
  }

  private async readStatus(): Promise<{ kind: 'missing' } | { kind: 'unreadable'; sentence: string } | { kind: 'ok'; value: StatusFile }> {
    const unreadable = (why: string) => ({
      kind: 'unreadable' as const,
      sentence: `The boot server's status cannot be read (${this.statusPath} ${why}). Turn it off and on again; if that does not help, look at the boot-server service's log.`,
    });
    let text: string;
    try {
      if ((await stat(this.statusPath)).size > MAX_STATUS_BYTES) return unreadable('is far too large');
      text = await readFile(this.statusPath, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
      return unreadable(code === 'EACCES' ? 'may not be read by the kiosk' : `gives ${code ?? 'an error'}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return unreadable('is not JSON');
    }
    const parsed = StatusFile.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return unreadable(`is not a status this kiosk knows${issue ? `: ${issue.path.map(String).join('.') || 'the file'}: ${issue.message}` : ''}`);
    }
    return { kind: 'ok', value: parsed.data };
  }
}

/**
 * A machine shows up by its MAC in DHCP events and by its IP address in TFTP and HTTP events, so
 * counting every distinct name would count it twice: the larger of the two counts is the estimate.
 */
export function countClients(events: readonly z.infer<typeof BootServerEvent>[]): number {
  const macs = new Set(events.filter((e) => e.kind === 'dhcp' && e.client !== '?').map((e) => e.client.toLowerCase()));
  const ips = new Set(events.filter((e) => e.kind !== 'dhcp' && e.client !== '?').map((e) => e.client));
  return Math.max(macs.size, ips.size);
}
