/**
 * The kiosk window and every guard around it: which URLs it may show and fetch, which permissions
 * and keys it gets, the IPC door to the backend, events pushed to the page, and what happens when
 * its renderer dies or hangs. Takes Electron as a parameter (see electron-surface.ts) so all of it
 * is tested without the Electron binary.
 */
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type KioskBackend } from '../core/kiosk-api.js';
import type { Cancelable, ElectronSurface, KioskWindow } from './electron-surface.js';
import { createCallHandler } from './ipc-gate.js';
import type { LaunchOptions } from './launch-options.js';
import { isAllowedRequest, isRuntimeUrl } from './origin-policy.js';
import { isPermissionGranted } from './permissions.js';
import { RendererWatchdog } from './renderer-watchdog.js';
import { wipeBrowsingData } from './session-wipe.js';
import type { ShellLog } from './shell-log.js';
import { isBlockedShortcut } from './shortcuts.js';
import { kioskWindowOptions } from './window-options.js';

/** What the window needs from the kiosk runtime (app/core/kiosk-runtime.ts). */
export interface PageSource {
  /** The page: http://127.0.0.1:PORT/ */
  url: string;
  origin: string;
  backend: KioskBackend;
}

export interface KioskWindowOptions {
  launch: LaunchOptions;
  preloadPath: string;
  log: ShellLog;
  /** True once the app is quitting: the window may close then, and a renderer exit is expected. */
  isQuitting: () => boolean;
  /** The renderer keeps dying: stop the app so its service restarts it. */
  giveUp: () => void;
  watchdog?: RendererWatchdog;
}

/** Long URLs are cut in the log: a page stuck in a loop must not fill the journal. */
const forLog = (url: string) => url.slice(0, 200);

export function openKioskWindow(electron: ElectronSurface, page: PageSource, options: KioskWindowOptions): KioskWindow {
  const { launch, log } = options;
  const watchdog = options.watchdog ?? new RendererWatchdog();
  if (launch.kiosk) electron.Menu.setApplicationMenu(null);
  const window = new electron.BrowserWindow(kioskWindowOptions(launch, options.preloadPath));
  const contents = window.webContents;
  if (launch.kiosk) window.removeMenu();

  // Closing is refused until the app quits: Alt+F4 from a window manager, or a page calling
  // window.close(), would otherwise leave a blank screen.
  window.on('close', (event) => {
    if (!options.isQuitting()) event.preventDefault();
  });

  const guardNavigation = (event: Cancelable, url: string) => {
    if (isRuntimeUrl(url, page.origin)) return;
    event.preventDefault();
    log('warn', 'navigation-blocked', { url: forLog(url) });
  };
  contents.on('will-navigate', guardNavigation);
  contents.on('will-redirect', guardNavigation);
  // One window, no browser chrome: a pop-up, even a same-origin one, would cover the kiosk with no
  // way to close it.
  contents.setWindowOpenHandler((details) => {
    log('warn', 'window-open-blocked', { url: forLog(details.url) });
    return { action: 'deny' };
  });

  const session = contents.session;
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    const granted = isPermissionGranted(permission, details.requestingUrl, page.origin);
    if (!granted) log('info', 'permission-denied', { permission, url: forLog(details.requestingUrl) });
    callback(granted);
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => isPermissionGranted(permission, requestingOrigin, page.origin));
  session.setDevicePermissionHandler(() => false);
  // Nothing leaves the kiosk as a file.
  session.on('will-download', (event) => {
    event.preventDefault();
    log('warn', 'download-blocked');
  });
  // The local server's Content-Security-Policy already limits the page to its own origin, and
  // stays the single place that policy is written (the browser shell relies on it alone). A second
  // CSP injected here would only duplicate it; what the shell adds instead is a network allow-list
  // that does not depend on the page's headers being right: nothing the renderer asks for leaves
  // the kiosk's own origin, whatever a future CSP change lets through.
  session.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedRequest(details.url, page.origin);
    if (!allowed) log('warn', 'request-blocked', { url: forLog(details.url), type: details.resourceType });
    callback({ cancel: !allowed });
  });

  if (launch.kiosk) {
    contents.on('before-input-event', (event, input) => {
      if (isBlockedShortcut(input)) event.preventDefault();
    });
  }

  electron.ipcMain.handle(
    IPC_CALL_CHANNEL,
    createCallHandler({ runtimeOrigin: page.origin, kioskContents: () => (window.isDestroyed() ? null : contents), backend: page.backend, log }),
  );
  const load = () => {
    // Rejects when a load fails or is replaced by another navigation; the page then reports itself.
    contents.loadURL(page.url).catch((error: unknown) => log('warn', 'page-load-failed', { error: String(error) }));
  };
  // One wipe at a time; a session that ends while one runs gets its own after it.
  let wiping: Promise<void> = Promise.resolve();
  const wipeAfterSession = (reason: string) => {
    wiping = wiping.then(async () => {
      if (contents.isDestroyed()) return;
      const started = Date.now();
      const failed = await wipeBrowsingData(session);
      if (failed.length) log('error', 'session-wipe-incomplete', { reason, failed });
      else log('info', 'session-wiped', { reason, ms: Date.now() - started });
      // A fresh page: the next person's login screen, with nothing of the last one in its memory.
      if (!contents.isDestroyed()) load();
    });
  };
  const unsubscribe = page.backend.subscribe((event) => {
    if (event.type === 'session-ended') wipeAfterSession(event.reason);
    // Only the kiosk page hears events, never whatever a failed load left in the window.
    if (contents.isDestroyed() || !isRuntimeUrl(contents.getURL(), page.origin)) return;
    contents.send(IPC_EVENT_CHANNEL, event);
  });
  window.on('closed', unsubscribe);
  contents.on('render-process-gone', (_event, details) => {
    if (options.isQuitting()) return;
    const action = watchdog.onRendererGone();
    log('error', 'renderer-gone', { reason: details.reason, exitCode: details.exitCode, action });
    if (action === 'reload') load();
    else options.giveUp();
  });
  // A hung renderer may not even process a reload; killing it leads to render-process-gone above,
  // which reloads the page in a fresh process.
  contents.on('unresponsive', () => {
    log('warn', 'renderer-unresponsive');
    contents.forcefullyCrashRenderer();
  });

  load();
  return window;
}
