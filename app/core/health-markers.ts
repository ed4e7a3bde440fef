/**
 * The kiosk's side of the update health gate (app/core/update/health-gate.ts, image/ab-slots.md):
 * two marker files in /run/thinkiosk/health/ that root's gate reads on a trial boot.
 *
 * - `ready`: the kiosk page has loaded and asked for its state, with the controller this kiosk is
 *   set to reach (null when none is configured: then ready alone counts for the gate).
 * - `controller-ok`: that controller answered (its identity), once per kiosk start.
 *
 * The formats are the gate's own schemas (ReadyMarker, ControllerMarker): one definition. Writing a
 * marker never stops the kiosk: off the image (development, tests without the directory) or with a
 * full /run, the failure is logged and the kiosk goes on; the gate then rolls the trial back, which
 * is the right answer for a kiosk that cannot say it is healthy.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../contract/files/atomic-write.js';
import { CONTROLLER_MARKER, ControllerMarker, HEALTH_DIR, READY_MARKER, ReadyMarker } from './update/health-gate.js';

export type MarkerLog = (level: 'info' | 'warn', message: string) => void;

export class HealthMarkers {
  private saidMissing = false;

  constructor(private readonly dir: string = HEALTH_DIR, private readonly log: MarkerLog = () => undefined, private readonly now: () => Date = () => new Date()) {}

  /** A new kiosk start: markers of an earlier run in this boot (a crashed kiosk) no longer say anything. */
  clear(): void {
    for (const name of [READY_MARKER, CONTROLLER_MARKER]) {
      try {
        rmSync(join(this.dir, name), { force: true });
      } catch (error) {
        this.log('warn', `health marker ${name} could not be removed from ${this.dir}: ${reason(error)}`);
      }
    }
  }

  /** The page is up; `controller` is the address the kiosk is set to reach, or null for none. */
  ready(controller: string | null): boolean {
    return this.write(READY_MARKER, ReadyMarker.parse({ at: this.now().toISOString(), controller }));
  }

  /** The controller answered. */
  controllerAnswered(controller: string): boolean {
    return this.write(CONTROLLER_MARKER, ControllerMarker.parse({ at: this.now().toISOString(), controller }));
  }

  private write(name: string, marker: object): boolean {
    // The image makes the directory (tmpfiles.d, root:kiosk 0770). Without it this is not the image
    // (development, most tests): said once, and nothing is made in a /run that is not the kiosk's.
    if (!existsSync(this.dir)) {
      if (!this.saidMissing) this.log('info', `health markers not written: ${this.dir} does not exist (not the thinkiosk image)`);
      this.saidMissing = true;
      return false;
    }
    try {
      writeFileAtomic(join(this.dir, name), `${JSON.stringify(marker)}\n`, { mode: 0o644 });
      this.log('info', `health: ${name} marker written`);
      return true;
    } catch (error) {
      this.log('warn', `health marker ${name} could not be written in ${this.dir} (an update on trial will not count this start as healthy): ${reason(error)}`);
      return false;
    }
  }
}

export interface ControllerProbeOptions {
  markers: HealthMarkers;
  /** The configured controller's address now, or null for none. */
  controller: () => string | null;
  /** Asks that controller who it is; rejects when it does not answer as a controller. */
  identify: (url: string) => Promise<unknown>;
  /** Between tries (the last one repeats): quick while the network comes up, then twice a minute. */
  retryDelaysMs?: readonly number[];
  log?: MarkerLog;
}

const PROBE_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];

/**
 * After the page is ready: asks the configured controller until it answers, then writes
 * controller-ok and stops. Asks nobody when no controller is configured. stop() ends it.
 */
export class ControllerProbe {
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;

  constructor(private readonly options: ControllerProbeOptions) {}

  /** Starts asking (once; later calls return the same run). Resolves when it answered or was stopped. */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
  }

  private async run(): Promise<void> {
    const delays = this.options.retryDelaysMs ?? PROBE_DELAYS_MS;
    for (let attempt = 0; !this.stopped; attempt++) {
      const url = this.options.controller();
      if (url === null) return;
      try {
        await this.options.identify(url);
        if (!this.stopped) this.options.markers.controllerAnswered(url);
        return;
      } catch (error) {
        if (attempt === 0) this.options.log?.('info', `health: controller ${url} not answering yet (asking again until it does): ${reason(error)}`);
      }
      if (this.stopped) return;
      const delay = delays[Math.min(attempt, delays.length - 1)] ?? 30_000;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
        this.timer.unref();
      });
      this.wake = null;
    }
  }
}

function reason(error: unknown): string {
  const candidate = error as { detail?: unknown; message?: unknown };
  return String(candidate?.detail ?? candidate?.message ?? error);
}
