/**
 * The kiosk window, declared in one place because these few lines are most of its security:
 * the page gets no Node, runs in Chromium's sandbox, is isolated from the preload's world, and can
 * reach main only through the preload's `window.thinkiosk` (app/electron/preload.cts).
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import type { LaunchOptions } from './launch-options.js';

export const KIOSK_PARTITION = 'thinkiosk';

export function kioskWindowOptions(launch: LaunchOptions, preloadPath: string): BrowserWindowConstructorOptions {
  return {
    kiosk: launch.kiosk,
    fullscreen: launch.kiosk,
    autoHideMenuBar: true,
    // The page paints its own background; showing the window before it does would flash white.
    backgroundColor: '#000000',
    title: 'thinkiosk',
    webPreferences: {
      preload: preloadPath,
      // A partition without "persist:" lives in memory only: no cookie, storage or cache of anyone's
      // session is ever written to disk (and session-wipe.ts clears it from memory at each session end).
      partition: KIOSK_PARTITION,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      navigateOnDragDrop: false,
      devTools: launch.devTools,
      spellcheck: false,
      // While a native viewer (xfreerdp, remote-viewer) covers the window, Chromium would throttle the
      // page's timers as if it were a background tab; the page still has to react to session events.
      backgroundThrottling: false,
    },
  };
}
