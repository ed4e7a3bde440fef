/**
 * The main-process end of `window.thinkiosk.call`: one handler for IPC_CALL_CHANNEL that answers
 * only the kiosk window's own page and only with methods the API lists. Any other sender (another
 * webContents, a frame from a foreign origin that slipped in, a frame already gone) is refused
 * without reaching the backend. Answers are always a Result, never a thrown error, so the page
 * never sees a stack trace (see app/core/kiosk-api.ts).
 */
import { isKioskMethod, type KioskBackend, type Result } from '../core/kiosk-api.js';
import type { IpcCallEvent } from './electron-surface.js';
import { isRuntimeUrl } from './origin-policy.js';
import type { ShellLog } from './shell-log.js';

export interface IpcGateOptions {
  runtimeOrigin: string;
  /** The kiosk window's webContents, or null while there is none. */
  kioskContents: () => unknown;
  backend: KioskBackend;
  log: ShellLog;
}

export type CallHandler = (event: IpcCallEvent, method: unknown, args: unknown) => Promise<Result<unknown>>;

const REFUSED: Result<never> = { ok: false, error: { kind: 'forbidden', message: 'This request is not allowed.' } };

export function createCallHandler(options: IpcGateOptions): CallHandler {
  return async (event, method, args) => {
    const frameUrl = event.senderFrame?.url ?? null;
    const contents = options.kioskContents();
    if (contents === null || event.sender !== contents || frameUrl === null || !isRuntimeUrl(frameUrl, options.runtimeOrigin)) {
      options.log('warn', 'ipc-refused-sender', { frameUrl, kioskWindow: contents !== null && event.sender === contents });
      return REFUSED;
    }
    if (typeof method !== 'string' || !isKioskMethod(method)) {
      options.log('warn', 'ipc-refused-method', { method: typeof method === 'string' ? method.slice(0, 64) : typeof method });
      return { ok: false, error: { kind: 'bad-request', message: 'The kiosk does not know this request.' } };
    }
    try {
      return await options.backend.call(method, args);
    } catch (error) {
      // The backend answers with Results; a throw is a bug there, logged here and not shown.
      options.log('error', 'backend-threw', { method, error: String(error) });
      return { ok: false, error: { kind: 'internal', message: 'Something went wrong in the kiosk. Please try again.' } };
    }
  };
}
