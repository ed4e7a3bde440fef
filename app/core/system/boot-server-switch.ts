/**
 * The boot server (PXE, pxe/) as the admin screen sees it: the admin's on/off switch and the status
 * the root boot-server service last wrote. The kiosk runs unprivileged and cannot start services:
 * it only writes the switch into its settings directory, and the service, which watches that file,
 * serves or stops a few seconds later. Both files are defined once, in contract/boot-server-files.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  readBootServerStatus, readBootServerSwitch, STATUS_FILE, SWITCH_FILE, writeBootServerSwitch, type BootEvent,
} from '../../../contract/boot-server-files.js';
import type { BootServerView } from '../kiosk-api.js';
import { SystemError } from './system-error.js';

/** Events shown on the admin screen; the service keeps up to 200. */
const SHOWN_EVENTS = 8;
/** The image's unit: with it and no status yet, the service has not started yet (it waits for the kiosk's page at boot). */
const SERVICE_UNIT = '/etc/systemd/system/thinkiosk-boot-server.service';

export interface BootServerSwitchOptions {
  /** The kiosk's settings directory, where the switch file goes. */
  settingsDir: string;
  /** The boot-server service's state directory, where it writes status.json. */
  stateDir: string;
  /** Set when this kiosk was itself netbooted (THINKIOSK_BOOT_SOURCE, e.g. "netboot from 10.0.0.2"). */
  netbootedFrom?: string | null;
  /** Whether the boot-server service is installed on this box (default: the image's unit file exists). */
  serviceInstalled?: () => boolean;
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
    const choice = readBootServerSwitch(this.switchPath);
    const status = readBootServerStatus(this.options.stateDir);
    const view: BootServerView = {
      switch: choice ? (choice.enabled ? 'on' : 'off') : 'not-chosen',
      switchChangedAt: choice?.changedAt ?? null,
      unavailable: this.unavailable(),
      state: 'not-installed', reason: null, since: null, mode: null, interface: null, address: null, httpUrl: null,
      arches: [], problems: [], error: null, clients: 0, events: [],
    };
    if (status.kind === 'missing') {
      // At boot the service starts once the kiosk has shown its page (after-kiosk): "starting", not "not installed".
      const installed = !this.options.netbootedFrom && (this.options.serviceInstalled ?? (() => existsSync(SERVICE_UNIT)))();
      return installed ? { ...view, state: 'starting' } : view;
    }
    if (status.kind === 'unreadable') {
      const error = `The boot server's status cannot be read (${this.statusPath} ${status.why}). Turn it off and on again; if that does not help, look at the boot-server service's log.`;
      return { ...view, state: 'unknown', error };
    }
    const s = status.status;
    return {
      ...view,
      state: s.state, reason: s.reason ?? null, since: s.since, mode: s.mode, interface: s.interface, address: s.address,
      httpUrl: s.httpUrl, arches: s.arches, problems: s.problems, error: s.error, clients: countClients(s.events),
      events: s.events.slice(-SHOWN_EVENTS),
    };
  }

  /** Saves the admin's choice and returns the fresh view. */
  async set(enabled: boolean): Promise<BootServerView> {
    const unavailable = this.unavailable();
    if (unavailable) throw new SystemError('forbidden', unavailable, `boot server switch refused: netbooted (${this.options.netbootedFrom})`);
    try {
      await writeBootServerSwitch(this.switchPath, enabled, this.options.now?.() ?? new Date());
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
}

/**
 * A machine shows up by its MAC in DHCP events and by its IP address in TFTP and HTTP events, so
 * counting every distinct name would count it twice: the larger of the two counts is the estimate.
 */
export function countClients(events: readonly BootEvent[]): number {
  const macs = new Set(events.filter((e) => e.kind === 'dhcp' && e.client !== '?').map((e) => e.client.toLowerCase()));
  const ips = new Set(events.filter((e) => e.kind !== 'dhcp' && e.client !== '?').map((e) => e.client));
  return Math.max(macs.size, ips.size);
}
