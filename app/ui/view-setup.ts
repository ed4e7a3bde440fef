/** First start: ask for the controller address and check it answers as a thinkiosk controller before saving. */
import { errorBox, noticeBox, type Context } from './context.js';
import { h, mount } from './dom.js';
import { t } from './i18n.js';
import { languageSwitch, settingsButton } from './view-login.js';

export function showSetup(ctx: Context): void {
  const input = h('input', { id: 'controller-url', type: 'text', inputmode: 'url', 'data-testid': 'controller-url', placeholder: t('setup.placeholder'), autocomplete: 'off', spellcheck: 'false', value: ctx.state.controller?.url ?? '' });
  const status = h('div', { class: 'status' });
  const button = h('button', { class: 'primary', type: 'submit', 'data-testid': 'controller-save' }, t('setup.check'));
  const form = h('form', { class: 'card' },
    h('h1', {}, t('setup.title')),
    ctx.state.presetProblem ? h('div', { class: 'error', 'data-testid': 'preset-problem' }, t('setup.preset-problem'), h('pre', {}, ctx.state.presetProblem)) : null,
    h('label', { for: 'controller-url' }, t('setup.address')), input, button, status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      button.disabled = true;
      mount(status, noticeBox(t('setup.checking', { url: input.value })));
      const saved = await ctx.bridge.call('saveController', { url: input.value });
      button.disabled = false;
      if (!saved.ok) return mount(status, errorBox(saved.error));
      ctx.state = saved.value;
      ctx.go({ view: 'login', notice: t('setup.found', { name: saved.value.controller?.name ?? '', backend: saved.value.controller?.backend ?? '' }) });
    })();
  });
  mount(ctx.root, h('div', { class: 'screen setup', 'data-testid': 'setup-screen' }, form, h('footer', {}, languageSwitch(ctx), settingsButton(ctx))));
  input.focus();
}
