/**
 * How the page reaches the kiosk's Node side: through Electron's preload (`window.thinkiosk`) when
 * it runs in Electron, otherwise through the browser shell's local server with the launch key that
 * came in the URL fragment (kept in sessionStorage so a reload keeps working, removed from the URL).
 * Either way a call returns a Result and never throws at the page.
 */
import type { KioskArgs, KioskEvent, KioskMethod, KioskValue, Result } from '../core/kiosk-api.js';
import type { ThinkioskBridge } from '../electron/bridge.js';

declare global {
  interface Window { thinkiosk?: ThinkioskBridge }
}

const KEY_STORAGE = 'thinkiosk.key';

function launchKey(): string {
  const fromFragment = /[#&]key=([\w-]+)/.exec(location.hash)?.[1];
  if (fromFragment) {
    sessionStorage.setItem(KEY_STORAGE, fromFragment);
    history.replaceState(null, '', location.pathname);
  }
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

export interface Bridge {
  call<M extends KioskMethod>(method: M, args: KioskArgs<M>): Promise<Result<KioskValue<M>>>;
  onEvent(listener: (event: KioskEvent) => void): void;
}

export function createBridge(): Bridge {
  const preload = window.thinkiosk;
  if (preload) {
    return {
      call: (method, args) => preload.call(method, args),
      onEvent: (listener) => void preload.onEvent(listener),
    };
  }
  const key = launchKey();
  return {
    async call(method, args) {
      try {
        const response = await fetch(`/rpc/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-thinkiosk-key': key }, body: JSON.stringify(args) });
        if (!response.ok) return { ok: false, error: { kind: 'internal', message: 'The kiosk could not process that request. Restart the kiosk if this persists.' } };
        return (await response.json()) as Result<never>;
      } catch {
        return { ok: false, error: { kind: 'internal', message: 'The kiosk service is not responding. It restarts by itself; please wait a moment.' } };
      }
    },
    onEvent(listener) {
      const source = new EventSource(`/events?key=${encodeURIComponent(key)}`);
      source.onmessage = (message: MessageEvent<string>) => listener(JSON.parse(message.data) as KioskEvent);
    },
  };
}
