/**
 * Electron's entry point (package.json "main" in the packaged app) and the only module that loads
 * Electron at run time: it hands the real Electron API to the tested shell (kiosk-shell.ts) and
 * starts the kiosk's Node side with page calls over IPC only (`rpcOverHttp: false`), so the local
 * server offers the page no HTTP door to the backend.
 *
 * Run by the kiosk's systemd service; a crash or an error exit is restarted there.
 */
import { app, BrowserWindow, ipcMain, Menu } from 'electron';
import { fileURLToPath } from 'node:url';
import { startKioskRuntime } from '../core/kiosk-runtime.js';
import type { ElectronSurface } from './electron-surface.js';
import { runKioskShell } from './kiosk-shell.js';
import { parseLaunchOptions } from './launch-options.js';
import { stderrLog } from './shell-log.js';

const electron: ElectronSurface = { app, BrowserWindow, ipcMain, Menu };

runKioskShell(electron, {
  launch: parseLaunchOptions(process.argv, process.env),
  preloadPath: fileURLToPath(new URL('./preload.cjs', import.meta.url)),
  log: stderrLog,
  // The fleet's restart-app: a clean quit (the runtime is closed first); systemd starts the kiosk again.
  startRuntime: () => startKioskRuntime({ rpcOverHttp: false, log: (level, message) => stderrLog(level, 'runtime', { message }), restartApp: () => app.quit() }),
}).catch((error: unknown) => {
  stderrLog('error', 'shell-failed', { error: String(error) });
  app.exit(1);
});
