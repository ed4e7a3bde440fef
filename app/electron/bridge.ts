/**
 * What the preload script puts on the page's `window.thinkiosk`: the page's only door to the Node
 * side when it runs in Electron. Types only, so the page (app/ui, compiled for the browser) can
 * `import type` it.
 */
import type { KioskArgs, KioskEvent, KioskMethod, KioskValue, Result } from '../core/kiosk-api.js';

export interface ThinkioskBridge {
  call<M extends KioskMethod>(method: M, args: KioskArgs<M>): Promise<Result<KioskValue<M>>>;
  /** Returns the function that stops this listener. */
  onEvent(listener: (event: KioskEvent) => void): () => void;
}

/** The global the preload defines: `window.thinkiosk`. */
export const BRIDGE_GLOBAL = 'thinkiosk';
