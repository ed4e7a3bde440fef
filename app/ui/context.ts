/** What every view gets: the bridge, the current state, navigation and common UI pieces. */
import type { Protocol } from '../../contract/api.js';
import type { KioskError, KioskEvent, KioskState } from '../core/kiosk-api.js';
import type { Bridge } from './bridge.js';
import { h } from './dom.js';
import { t } from './i18n.js';

export type Route =
  | { view: 'setup'; notice?: string } | { view: 'login'; notice?: string } | { view: 'desktops'; notice?: string; afterLogin?: boolean }
  /** `protocol`: the person's choice over the desktop's own; `likely`: what the list showed, whose viewer starts loading at once. */
  | { view: 'session'; desktopId: string; desktopName: string; protocol?: Protocol; likely?: Protocol } | { view: 'admin' };

export interface Context {
  bridge: Bridge;
  state: KioskState;
  root: HTMLElement;
  go(route: Route): void;
  refreshState(): Promise<KioskState>;
  /** Events pushed by the Node side; returns the unsubscribe function. */
  onEvent(listener: (event: KioskEvent) => void): () => void;
}

/** The login screen's sentence for a session the kiosk ended itself (idle, expiry); none after a logout. */
export function sessionEndNotice(reason: KioskState['lastSessionEnded'] | 'logout'): string | undefined {
  return reason === 'idle' ? t('idle.ended') : reason === 'expired' ? t('expired.ended') : undefined;
}

/**
 * A call answered "session expired": to the login screen, with why the kiosk ended the session when
 * it did (an idle logout's sentence must not be replaced by a list refresh that was under way).
 */
export async function backToLogin(ctx: Context, message: string): Promise<void> {
  const state = await ctx.refreshState();
  ctx.go({ view: 'login', notice: sessionEndNotice(state.lastSessionEnded) ?? message });
}

/** An error box; `retryAfterSeconds` from the controller is shown as a wait. */
export function errorBox(error: KioskError): HTMLElement {
  return h('div', { class: 'error', role: 'alert', 'data-testid': 'error', 'data-kind': error.kind },
    error.message, error.retryAfterSeconds ? ` ${t('login.retry-in', { seconds: error.retryAfterSeconds })}` : '');
}

export function noticeBox(text: string): HTMLElement {
  return h('div', { class: 'notice', role: 'status', 'data-testid': 'notice' }, text);
}

/** A modal question; resolves true on the confirming button. */
export function confirmDialog(question: string, confirmLabel: string): Promise<boolean> {
  const root = document.getElementById('modal-root')!;
  return new Promise((resolve) => {
    const close = (answer: boolean): void => {
      root.replaceChildren();
      resolve(answer);
    };
    const yes = h('button', { class: 'primary', 'data-testid': 'confirm-yes', onclick: () => close(true) }, confirmLabel);
    root.replaceChildren(h('div', { class: 'modal-backdrop' },
      h('div', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'data-testid': 'confirm' },
        h('p', {}, question),
        h('div', { class: 'buttons' }, h('button', { 'data-testid': 'confirm-no', onclick: () => close(false) }, t('common.cancel')), yes))));
    yes.focus();
  });
}
