/**
 * A kiosk without a controller address. A brand-new local kiosk is claimed here: the controller
 * address (checked before anything is saved) and a new admin PIN, together. A kiosk that already
 * has a PIN sends the administrator to Settings; a netbooted kiosk that got neither from its boot
 * server says so (nothing can be set here: it would be gone at the next boot anyway).
 */
import { errorBox, noticeBox, type Context } from './context.js';
import { h, mount } from './dom.js';
import { t } from './i18n.js';
import { languageSwitch, settingsButton } from './view-login.js';

const PIN = /^\d{4,12}$/;

export function showSetup(ctx: Context, notice?: string): void {
  const problem = ctx.state.presetProblem ? h('div', { class: 'error', 'data-testid': 'preset-problem' }, t('setup.preset-problem'), h('pre', {}, ctx.state.presetProblem)) : null;
  const status = h('div', { class: 'status' }, notice ? noticeBox(notice) : null);
  if (ctx.state.adminAccess !== 'claim') {
    const text = ctx.state.adminAccess === 'none' ? t('setup.netbooted-none', { source: ctx.state.bootSource }) : t('setup.needs-admin');
    mount(ctx.root, h('div', { class: 'screen setup', 'data-testid': 'setup-screen', 'data-access': ctx.state.adminAccess },
      h('div', { class: 'card' }, h('h1', {}, t('setup.title')), problem, h('p', { 'data-testid': 'setup-explanation' }, text), status),
      h('footer', {}, languageSwitch(ctx), ctx.state.adminAccess === 'none' ? null : settingsButton(ctx))));
    return;
  }

  const input = h('input', { id: 'controller-url', type: 'text', inputmode: 'url', 'data-testid': 'controller-url', placeholder: t('setup.placeholder'), autocomplete: 'off', spellcheck: 'false', value: ctx.state.controller?.url ?? '' });
  const pin = h('input', { id: 'setup-pin', type: 'password', inputmode: 'numeric', 'data-testid': 'setup-pin', autocomplete: 'off' });
  const pinAgain = h('input', { id: 'setup-pin-again', type: 'password', inputmode: 'numeric', 'data-testid': 'setup-pin-again', autocomplete: 'off' });
  const button = h('button', { class: 'primary', type: 'submit', 'data-testid': 'controller-save' }, t('setup.check'));
  const form = h('form', { class: 'card' },
    h('h1', {}, t('setup.title')), problem,
    h('label', { for: 'controller-url' }, t('setup.address')), input,
    h('label', { for: 'setup-pin' }, t('setup.pin')), pin,
    h('label', { for: 'setup-pin-again' }, t('setup.pin-again')), pinAgain,
    h('p', { class: 'subtle' }, t('setup.claim-note')),
    button, status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!PIN.test(pin.value)) return mount(status, errorBox({ kind: 'invalid-input', message: t('setup.pin-invalid') }));
    if (pin.value !== pinAgain.value) return mount(status, errorBox({ kind: 'invalid-input', message: t('setup.pin-mismatch') }));
    void (async () => {
      button.disabled = true;
      mount(status, noticeBox(t('setup.checking', { url: input.value })));
      const saved = await ctx.bridge.call('claimKiosk', { url: input.value, pin: pin.value });
      button.disabled = false;
      if (!saved.ok) {
        mount(status, errorBox(saved.error));
        // Someone else finished the setup meanwhile: show what this kiosk is now.
        if (saved.error.kind === 'locked') await ctx.refreshState().then(() => ctx.state.controller && ctx.go({ view: 'login' }));
        return;
      }
      pin.value = pinAgain.value = '';
      ctx.state = saved.value;
      ctx.go({ view: 'login', notice: t('setup.found', { name: saved.value.controller?.name ?? '', backend: saved.value.controller?.backend ?? '' }) });
    })();
  });
  mount(ctx.root, h('div', { class: 'screen setup', 'data-testid': 'setup-screen', 'data-access': 'claim' }, form, h('footer', {}, languageSwitch(ctx))));
  input.focus();
}
