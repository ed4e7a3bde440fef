/** What every view of the admin page shares: where it is, its client, and the common pieces. */
import type { SettingRule } from '../setting-rules.js';
import { AdminError, type AdminApi } from './api.js';
import { h, mount } from './dom.js';

export interface AdminContext {
  api: AdminApi;
  /** Each fleet setting with its rule, in the order the admin reads them. */
  rules: SettingRule[];
  /** Opens a place of the page: '#/fleet', '#/kiosks/<id>', '#/settings', '#/enrolment', '#/audit'. */
  go(hash: string): void;
  /** The line under the header for what concerns the whole page (a refresh that failed). */
  pageStatus(error: unknown): void;
}

/** A view the page keeps while signed in; shown and hidden as the admin moves around. */
export interface View {
  element: HTMLElement;
  show(): void;
  hide(): void;
  dispose(): void;
}

/** A view that reads its data afresh each time it is shown, with nothing running in the background. */
export function reloadingView(element: HTMLElement, load: () => Promise<void>, dispose: () => void = () => {}): View {
  return {
    element,
    show() {
      element.hidden = false;
      void load();
    },
    hide() {
      element.hidden = true;
    },
    dispose,
  };
}

/** An error's sentence; anything that is not an AdminError is a fault of this page, said plainly. */
export function errorText(error: unknown): string {
  if (error instanceof AdminError) return error.message;
  return 'Something went wrong in this page. Reload it and try again.';
}

export function errorBox(error: unknown): HTMLElement {
  const kind = error instanceof AdminError ? error.kind : 'page';
  return h('div', { class: 'error', role: 'alert', 'data-testid': 'error', 'data-kind': kind }, errorText(error));
}

export function noticeBox(text: string): HTMLElement {
  return h('div', { class: 'notice', role: 'status', 'data-testid': 'notice' }, text);
}

/**
 * Shows the outcome of an action in `status`: nothing on success unless `done` says something. A
 * session that ended is not shown here: the page is on its way back to sign-in.
 */
export async function act<T>(status: HTMLElement, action: () => Promise<T>, done?: string | ((value: T) => string | null)): Promise<T | undefined> {
  mount(status);
  status.dataset.busy = 'true';
  try {
    const value = await action();
    const text = typeof done === 'function' ? done(value) : done;
    if (text) mount(status, noticeBox(text));
    return value;
  } catch (error) {
    if (!(error instanceof AdminError && error.kind === 'session-ended')) mount(status, errorBox(error));
    return undefined;
  } finally {
    delete status.dataset.busy;
  }
}

/** A modal question; resolves true on the confirming button (Escape or Cancel: false). */
export function confirmDialog(question: string, confirmLabel: string): Promise<boolean> {
  const root = document.getElementById('modal-root')!;
  return new Promise((resolve) => {
    const close = (answer: boolean): void => {
      root.replaceChildren();
      document.removeEventListener('keydown', onKey);
      resolve(answer);
    };
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') close(false);
    };
    const yes = h('button', { class: 'danger', 'data-testid': 'confirm-yes', onclick: () => close(true) }, confirmLabel);
    mount(root, h('div', { class: 'modal-backdrop' },
      h('div', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'data-testid': 'confirm' },
        h('p', {}, question),
        h('div', { class: 'buttons' }, h('button', { 'data-testid': 'confirm-no', onclick: () => close(false) }, 'Cancel'), yes))));
    document.addEventListener('keydown', onKey);
    yes.focus();
  });
}

/** A term and its value, for fact lists (<dl>). */
export function fact(term: string, ...value: (Node | string | null)[]): Node[] {
  return [h('dt', {}, term), h('dd', {}, ...(value.length && value.some((v) => v !== null && v !== '') ? value : ['—']))];
}
