/**
 * The kiosk page's preload: puts `window.thinkiosk` (see bridge.ts) into the page through
 * contextBridge, and nothing else. The page is sandboxed, so this script runs as CommonJS with a
 * `require` that knows only Electron's renderer modules: hence a .cts file (emitted as
 * preload.cjs by the project's tsc), and the channel names restated here with their types tied to
 * app/core/kiosk-api.ts, so tsc fails if the two ever differ.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { BRIDGE_GLOBAL, ThinkioskBridge } from './bridge.js';
import type { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, KioskEvent } from '../core/kiosk-api.js';

const CALL_CHANNEL: typeof IPC_CALL_CHANNEL = 'thinkiosk:call';
const EVENT_CHANNEL: typeof IPC_EVENT_CHANNEL = 'thinkiosk:event';
const GLOBAL_NAME: typeof BRIDGE_GLOBAL = 'thinkiosk';

const bridge: ThinkioskBridge = {
  // Main checks the sender and the method name, the backend the arguments; this side only carries them.
  call: (method, args) => ipcRenderer.invoke(CALL_CHANNEL, method, args),
  onEvent(listener) {
    // The page gets the event alone, never Electron's IPC event (whose `sender` is ipcRenderer).
    const forward = (_event: IpcRendererEvent, event: KioskEvent) => listener(event);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
};

contextBridge.exposeInMainWorld(GLOBAL_NAME, bridge);
