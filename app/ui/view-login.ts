/** Log in with user name and password; the password goes to the Node side and is never stored. */
import { errorBox, noticeBox, type Context } from './context.js';
import { h, mount } from './dom.js';
import { language, setLanguage, t } from './i18n.js';

export function showLogin(ctx: Context, notice?: string): void {
  const controller = ctx.state.controller;
  const username = h('input', { id: 'username', 'data-testid': 'username', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false' });
  const password = h('input', { id: 'password', type: 'password', 'data-testid': 'password', autocomplete: 'off' });
  const domain = h('input', { id: 'domain', 'data-testid': 'domain', autocomplete: 'off', spellcheck: 'false' });
  const status = h('div', { class: 'status' }, notice ? noticeBox(notice) : null);
  const button = h('button', { class: 'primary', type: 'submit', 'data-testid': 'login-submit' }, t('login.submit'));
  const form = h('form', { class: 'card' },
    h('h1', {}, t('login.title')),
    h('p', { class: 'subtle', 'data-testid': 'controller-name' }, t('login.controller', { name: controller?.name ?? '' })),
    h('label', { for: 'username' }, t('login.username')), username,
    h('label', { for: 'password' }, t('login.password')), password,
    h('details', {}, h('summary', {}, t('login.domain')), domain),
    button, status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      button.disabled = true;
      mount(status, noticeBox(t('login.busy')));
      const result = await ctx.bridge.call('login', { username: username.value, password: password.value, ...(domain.value ? { domain: domain.value } : {}) });
      button.disabled = false;
      password.value = '';
      if (!result.ok) {
        mount(status, errorBox(result.error));
        if (result.error.kind === 'not-configured') ctx.go({ view: 'setup' });
        else password.focus();
        return;
      }
      ctx.state = result.value;
      ctx.go({ view: 'desktops', afterLogin: true });
    })();
  });
  mount(ctx.root, h('div', { class: 'screen login', 'data-testid': 'login-screen' }, form, h('footer', {}, languageSwitch(ctx), settingsButton(ctx))));
  username.focus();
}

export function languageSwitch(ctx: Context): HTMLElement {
  const other = language() === 'en' ? 'zh-CN' : 'en';
  return h('button', {
    class: 'link', 'data-testid': 'language-switch',
    onclick: () => void ctx.bridge.call('setLanguage', { language: other }).then((result) => {
      if (!result.ok) return;
      ctx.state = result.value;
      setLanguage(result.value.language);
      ctx.go(ctx.state.controller ? { view: 'login' } : { view: 'setup' });
    }),
  }, other === 'en' ? 'English' : '中文');
}

export function settingsButton(ctx: Context): HTMLElement {
  return h('button', { class: 'link', 'data-testid': 'open-admin', onclick: () => ctx.go({ view: 'admin' }) }, t('common.settings'));
}
