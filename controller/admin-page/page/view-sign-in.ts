/**
 * Sign-in: the same POST /v1/session a kiosk uses. The controller decides who is an administrator:
 * the page asks for the fleet at once, and a 403 there is shown here (and that session ended).
 */
import type { KioskSummary } from '../../../contract/fleet-admin.js';
import { AdminError, type AdminApi } from './api.js';
import { h, mount } from './dom.js';
import { errorBox, noticeBox } from './ui.js';

export interface SignInNotice {
  text: string;
  kind: 'notice' | 'error';
}

export function showSignIn(root: HTMLElement, api: AdminApi, controllerName: string | null, notice: SignInNotice | null, signedIn: (kiosks: KioskSummary[]) => void): void {
  const username = h('input', { id: 'username', 'data-testid': 'username', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', required: true });
  const password = h('input', { id: 'password', type: 'password', 'data-testid': 'password', autocomplete: 'off', required: true });
  const domain = h('input', { id: 'domain', 'data-testid': 'domain', autocomplete: 'off', spellcheck: 'false' });
  const project = h('input', { id: 'project', 'data-testid': 'project', autocomplete: 'off', spellcheck: 'false' });
  const status = h('div', { class: 'status', 'data-testid': 'sign-in-status' },
    notice ? (notice.kind === 'error' ? h('div', { class: 'error', role: 'alert', 'data-testid': 'error', 'data-kind': 'session-ended' }, notice.text) : noticeBox(notice.text)) : null);
  const button = h('button', { class: 'primary', type: 'submit', 'data-testid': 'sign-in' }, 'Sign in');
  const form = h('form', { class: 'card', method: 'post', autocomplete: 'off', 'data-testid': 'sign-in-form' },
    h('h1', {}, 'thinkiosk fleet'),
    h('p', { class: 'subtle', 'data-testid': 'controller-name' }, controllerName ? `Controller: ${controllerName}` : 'Sign in as a site administrator of this controller.'),
    h('label', { for: 'username' }, 'User name'), username,
    h('label', { for: 'password' }, 'Password'), password,
    h('details', {}, h('summary', {}, 'Domain and project (OpenStack)'),
      h('label', { for: 'domain' }, 'Domain'), domain,
      h('label', { for: 'project' }, 'Project'), project),
    h('div', { class: 'buttons' }, button),
    status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      button.disabled = true;
      mount(status, noticeBox('Signing in…'));
      try {
        await api.signIn({
          username: username.value, password: password.value,
          ...(domain.value ? { domain: domain.value } : {}), ...(project.value ? { project: project.value } : {}),
        });
        password.value = '';
        let kiosks: KioskSummary[];
        try {
          kiosks = (await api.call('kiosks', {})).kiosks;
        } catch (error) {
          // Signed in but not let in (403: not an administrator): that session has no use here.
          await api.signOut();
          throw error;
        }
        signedIn(kiosks);
      } catch (error) {
        password.value = '';
        mount(status, errorBox(error));
        (error instanceof AdminError && error.kind === 'invalid-credentials' ? password : username).focus();
      } finally {
        button.disabled = false;
      }
    })();
  });
  mount(root, h('div', { class: 'sign-in-screen', 'data-testid': 'sign-in-screen' }, form));
  username.focus();
}
