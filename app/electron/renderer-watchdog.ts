/**
 * What to do when the page's renderer dies: reload it, unless it keeps dying. A renderer that
 * crashes again right after every reload (a GPU driver wedged, memory exhausted) would otherwise
 * spin forever behind a black screen; after `maxReloads` within `windowMs` the shell exits with an
 * error instead, and the kiosk's systemd service (Restart=always) starts the whole app afresh.
 */
export interface WatchdogLimits {
  maxReloads: number;
  windowMs: number;
}

export const DEFAULT_WATCHDOG_LIMITS: WatchdogLimits = { maxReloads: 3, windowMs: 60_000 };

export class RendererWatchdog {
  private reloads: number[] = [];

  constructor(
    private readonly limits: WatchdogLimits = DEFAULT_WATCHDOG_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called once per renderer death: 'reload' it, or 'give-up' and let the service restart the app. */
  onRendererGone(): 'reload' | 'give-up' {
    const now = this.now();
    this.reloads = this.reloads.filter((at) => now - at < this.limits.windowMs);
    if (this.reloads.length >= this.limits.maxReloads) return 'give-up';
    this.reloads.push(now);
    return 'reload';
  }
}
