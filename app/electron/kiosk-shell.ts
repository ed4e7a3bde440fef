/**
 * The shell's life: one instance per machine, the kiosk runtime started once Electron is ready,
 * the kiosk window opened on it, and the runtime closed (native viewers stopped, local server shut)
 * before the app exits. If the app itself crashes or exits with an error, the kiosk's systemd
 * service (Restart=always) starts it again; this module never tries to resurrect itself.
 */
import type { ElectronSurface, KioskWindow } from './electron-surface.js';
import type { LaunchOptions } from './launch-options.js';
import { openKioskWindow, type PageSource } from './kiosk-window.js';
import type { RendererWatchdog } from './renderer-watchdog.js';
import type { ShellLog } from './shell-log.js';

/** The part of app/core/kiosk-runtime.ts's KioskRuntime the shell uses. */
export interface ShellRuntime extends PageSource {
  close(): Promise<void>;
}

export interface KioskShellOptions {
  launch: LaunchOptions;
  preloadPath: string;
  startRuntime: () => Promise<ShellRuntime>;
  log: ShellLog;
  watchdog?: RendererWatchdog;
  /** How long quitting waits for the runtime to close before exiting anyway. */
  closeTimeoutMs?: number;
}

export interface KioskShell {
  window: KioskWindow;
  runtime: ShellRuntime;
}

/** Resolves to null when this instance stops at once: another one runs, or the runtime failed. */
export async function runKioskShell(electron: ElectronSurface, options: KioskShellOptions): Promise<KioskShell | null> {
  const { app } = electron;
  const { log } = options;
  // A second kiosk would open a second full-screen window and a second local server; it hands
  // over to the first instead (see 'second-instance' below).
  if (!app.requestSingleInstanceLock()) {
    log('info', 'already-running');
    app.quit();
    return null;
  }
  if (options.launch.ignored) log('warn', 'launch-flag-ignored', { reason: options.launch.ignored });

  await app.whenReady();
  let runtime: ShellRuntime;
  try {
    runtime = await options.startRuntime();
  } catch (error) {
    log('error', 'runtime-failed', { error: String(error) });
    app.exit(1);
    return null;
  }

  let quitting = false;
  let runtimeClosed: Promise<void> | null = null;
  const closeRuntime = () => {
    runtimeClosed ??= withTimeout(runtime.close(), options.closeTimeoutMs ?? 5000).catch((error: unknown) =>
      log('warn', 'runtime-close-failed', { error: String(error) }),
    );
    return runtimeClosed;
  };
  let runtimeStopped = false;
  app.on('before-quit', (event) => {
    quitting = true;
    if (runtimeStopped) return;
    // Hold the quit until the runtime has stopped what it started, then quit for real.
    event.preventDefault();
    void closeRuntime().then(() => {
      runtimeStopped = true;
      app.quit();
    });
  });

  const window = openKioskWindow(electron, runtime, {
    launch: options.launch,
    preloadPath: options.preloadPath,
    log,
    isQuitting: () => quitting,
    giveUp: () => {
      log('error', 'renderer-keeps-dying');
      quitting = true;
      void closeRuntime().then(() => app.exit(1));
    },
    watchdog: options.watchdog,
  });
  app.on('second-instance', () => {
    if (window.isDestroyed()) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  log('info', 'kiosk-started', { url: runtime.url, kiosk: options.launch.kiosk });
  return { window, runtime };
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`not closed after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
