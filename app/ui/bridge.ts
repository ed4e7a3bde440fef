/**
 * How the page reaches the kiosk's Node side: through Electron's preload (`window.thinkiosk`) when
 * it runs in Electron, otherwise through the browser shell's local server with the key of this
 * Chromium launch. The shell hands the page a one-time token in the URL fragment (`#boot=`, never
 * on a command line); the page trades it once for the key (`POST /bootstrap`), keeps the key in
 * sessionStorage so a reload keeps working, and removes the fragment from the URL. (`#key=` gives
 * the key directly: what the tests use, which drive the page from outside.) Either way a call
 * returns a Result and never throws at the page.
 */
import type { KioskArgs, KioskEvent, KioskMethod, KioskValue, Result } from '../core/kiosk-api.js';
import type { ThinkioskBridge } from '../electron/bridge.js';

declare global {
  interface Window { thinkiosk?: ThinkioskBridge }
}

const KEY_STORAGE = 'thinkiosk.key';

async function launchKey(): Promise<string> {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('boot');
  const key = fragment.get('key');
  if (token || key) history.replaceState(null, '', location.pathname);
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else if (token) {
    try {
      const response = await fetch('/bootstrap', { method: 'POST', headers: { 'x-thinkiosk-bootstrap': token } });
      if (response.ok) sessionStorage.setItem(KEY_STORAGE, ((await response.json()) as { key: string }).key);
    } catch {
      // No key: every call says the kiosk could not process it, and the shell starts Chromium again.
    }
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
        const response = await fetch(`/rpc/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-thinkiosk-key': await key }, body: JSON.stringify(args) });
        if (!response.ok) return { ok: false, error: { kind: 'internal', message: 'The kiosk could not process that request. Restart the kiosk if this persists.' } };
        return (await response.json()) as Result<never>;
      } catch {
        return { ok: false, error: { kind: 'internal', message: 'The kiosk service is not responding. It restarts by itself; please wait a moment.' } };
      }
    },
    onEvent(listener) {
      void key.then((value) => {
        const source = new EventSource(`/events?key=${encodeURIComponent(value)}`);
        source.onmessage = (message: MessageEvent<string>) => listener(JSON.parse(message.data) as KioskEvent);
      });
    },
  };
}
