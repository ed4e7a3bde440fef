/**
 * Keeps Debian's Chromium on the kiosk page: one Chromium at a time, each on a fresh profile of its
 * own (chromium-profile.ts) with a one-time token for the page's key (app/core/launch-keys.ts).
 *
 * - Chromium dying must not leave a desktop or a blank screen: it is started again, slower if it
 *   keeps dying.
 * - A Chromium that runs but never loads the page (seen on starved, emulated machines: a white
 *   window for good, nearly always its first start, while a restart loads in under a minute) is as
 *   dead as one that exited: killed, and so started again. Each further hang doubles the wait, so
 *   a machine that is merely slow still gets there.
 * - When a person's session ends (logout, idle, expiry), `recycle` ends that Chromium with all its
 *   processes, deletes its profile, and starts a new one: what the next person meets has never seen
 *   the last one. (Clearing storage over the debugging pipe instead would be faster, but cannot
 *   reach saved logins, autofill, history, session-restore files or what the renderer still holds
 *   in memory; see the README for the figures.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { LaunchKeys } from '../core/launch-keys.js';
import { CdpPipe } from './cdp-pipe.js';
import { createProfile, removeProfile } from './chromium-profile.js';
import { guardWindows } from './window-guard.js';

export interface KioskBrowserOptions {
  chromium: string;
  /** Chromium's command line for a profile directory (chromium-args.ts). */
  args: (profile: string) => string[];
  env: NodeJS.ProcessEnv;
  /** The kiosk page, without a secret: runtime.url. */
  pageUrl: string;
  origin: string;
  keys: LaunchKeys;
  /** How long a start may take to load the page before it counts as hung. */
  pageLoadSeconds: number;
  say: (message: string) => void;
  /** A launch's page has loaded (traded its token), `ms` after Chromium was started. */
  onPageLoaded: (launch: number, ms: number) => void;
  /** Where profiles are made (default: the system's temporary directory). */
  profileParent?: string;
}

interface Running {
  launch: number;
  child: ChildProcess;
  profile: string;
  startedAt: number;
  loaded: boolean;
  /** Ended on purpose (recycled or stopped): its exit starts nothing. */
  ending: boolean;
  exited: Promise<void>;
  watchdog: NodeJS.Timeout | undefined;
}

export class KioskBrowser {
  private running: Running | null = null;
  private stopping = false;
  private recycling: Promise<void> | null = null;
  private hangs = 0;
  private readonly recentExits: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KioskBrowserOptions) {
    options.keys.onExchange((launch) => this.pageLoaded(launch));
  }

  start(): void {
    this.launch();
  }

  /** Ends the current Chromium and its profile, and starts a fresh one. Calls while one runs share it. */
  recycle(why: string): Promise<void> {
    this.recycling ??= (async () => {
      this.options.say(`starting chromium afresh on a new profile: ${why}`);
      clearTimeout(this.restartTimer);
      await this.end(this.running);
      this.launch();
    })().finally(() => {
      this.recycling = null;
    });
    return this.recycling;
  }

  /** Ends Chromium for good (the shell is stopping) and deletes its profile. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    await this.recycling?.catch(() => undefined);
    await this.end(this.running);
  }

  private launch(): void {
    if (this.stopping) return;
    const { launch, token } = this.options.keys.beginLaunch();
    const profile = createProfile(`${this.options.pageUrl}#boot=${token}`, this.options.origin, this.options.profileParent);
    // Its own process group, so ending it ends every Chromium process; fds 3 and 4 are the debugging pipe.
    const child = spawn(this.options.chromium, this.options.args(profile), { env: this.options.env, stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const running: Running = { launch, child, profile, startedAt: Date.now(), loaded: false, ending: false, exited, watchdog: undefined };
    this.running = running;
    this.options.say(`chromium started (pid ${child.pid})`);

    const [toChromium, fromChromium] = [child.stdio[3], child.stdio[4]];
    const cdp = toChromium && fromChromium ? new CdpPipe(toChromium as Writable, fromChromium as Readable) : null;
    if (cdp) guardWindows(cdp, this.options.origin, {
      closed: (url) => this.options.say(`closed a window chromium opened besides the kiosk page (${url.slice(0, 120) || 'a new tab'})`),
      kioskTabLost: (why) => {
        if (this.running === running && !running.ending && !this.stopping) void this.recycle(why);
      },
    }).catch((error: Error) => {
      if (!running.ending) this.options.say(`cannot watch chromium's windows: ${error.message}`);
    });

    const waitSeconds = this.options.pageLoadSeconds * 2 ** Math.min(this.hangs, 3);
    running.watchdog = setTimeout(() => {
      if (running.loaded || running.ending || this.stopping) return;
      this.hangs++;
      this.options.say(`chromium has not loaded the kiosk page in ${waitSeconds} s; starting it again`);
      child.kill('SIGKILL');
    }, waitSeconds * 1000);

    child.on('error', (error) => this.options.say(`chromium could not be started: ${error.message}`));
    void exited.then(() => {
      clearTimeout(running.watchdog);
      cdp?.close();
      // Whatever the browser process left behind (renderers, the GPU process, the zygote), then its profile.
      signalGroup(child.pid, 'SIGKILL');
      removeProfile(profile);
      if (this.running === running) this.running = null;
      if (running.ending || this.stopping) return;
      const now = Date.now();
      this.recentExits.push(now);
      while (this.recentExits.length && this.recentExits[0]! < now - 60_000) this.recentExits.shift();
      const delay = this.recentExits.length > 3 ? 10_000 : 1_000;
      this.options.say(`chromium exited (${child.signalCode ?? child.exitCode}); restarting in ${delay / 1000} s`);
      this.restartTimer = setTimeout(() => this.launch(), delay);
    });
  }

  private pageLoaded(launch: number): void {
    const running = this.running;
    if (!running || running.launch !== launch || running.loaded) return;
    running.loaded = true;
    clearTimeout(running.watchdog);
    this.options.onPageLoaded(launch, Date.now() - running.startedAt);
  }

  private async end(running: Running | null): Promise<void> {
    if (!running) return;
    running.ending = true;
    clearTimeout(running.watchdog);
    // Its profile is deleted right after: nothing to save, so no need to ask it nicely.
    signalGroup(running.child.pid, 'SIGKILL');
    await running.exited;
    removeProfile(running.profile);
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
