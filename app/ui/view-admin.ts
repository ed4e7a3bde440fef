/**
 * Administrator settings behind the admin PIN: controller, network, display and audio, language,
 * idle logout, diagnostics, logs, a technician terminal, the boot server's switch and updates
 * (view-update.ts). A kiosk with a controller but no PIN yet asks a site administrator of that
 * controller to sign in, then to set the PIN before anything else. Locking (or leaving) closes terminals; the kiosk locks by itself
 * after a few minutes without use, and the page then returns to the login screen.
 */
import type { BootServerView, KioskError, KioskState } from '../core/kiosk-api.js';
import { errorBox, noticeBox, type Context, type Route } from './context.js';
import { h, mount } from './dom.js';
import { setLanguage, t, type MessageKey } from './i18n.js';
import { updateTab } from './view-update.js';

let leaveHook: (() => void) | null = null;
export function leaveAdmin(): void {
  leaveHook?.();
  leaveHook = null;
}

const PIN = /^\d{4,12}$/;

export function showAdmin(ctx: Context): void {
  // Leaving this screen, however it happens, locks it again on the Node side.
  leaveHook = () => void ctx.bridge.call('adminLock', {});
  switch (ctx.state.adminAccess) {
    case 'pin': return askPin(ctx);
    case 'controller-admin': return askSiteAdmin(ctx);
    case 'claim': return ctx.go({ view: 'setup' });
    case 'none': return mount(ctx.root, h('div', { class: 'screen admin', 'data-testid': 'admin-screen' },
      h('div', { class: 'card' }, h('h1', {}, t('admin.title')),
        h('p', { 'data-testid': 'admin-explanation' }, t('setup.netbooted-none', { source: ctx.state.bootSource })),
        h('div', { class: 'buttons' }, cancelButton(ctx)))));
  }
}

function cancelButton(ctx: Context): HTMLElement {
  return h('button', { type: 'button', 'data-testid': 'admin-cancel', onclick: () => ctx.go(home(ctx)) }, t('common.cancel'));
}

function askPin(ctx: Context): void {
  const status = h('div', { class: 'status' });
  const pin = h('input', { type: 'password', inputmode: 'numeric', 'data-testid': 'admin-pin', autocomplete: 'off' });
  const form = h('form', { class: 'card' },
    h('h1', {}, t('admin.title')),
    h('label', {}, t('admin.pin')), pin,
    h('div', { class: 'buttons' }, cancelButton(ctx), h('button', { class: 'primary', type: 'submit', 'data-testid': 'admin-unlock' }, t('admin.unlock'))),
    status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void ctx.bridge.call('adminUnlock', { pin: pin.value }).then(async (result) => {
      pin.value = '';
      if (!result.ok) return mount(status, errorBox(result.error));
      await ctx.refreshState();
      showPanel(ctx);
    });
  });
  mount(ctx.root, h('div', { class: 'screen admin', 'data-testid': 'admin-screen' }, form));
  pin.focus();
}

/** No PIN yet: a site administrator of this kiosk's controller proves it by signing in there. */
function askSiteAdmin(ctx: Context): void {
  const status = h('div', { class: 'status' });
  const username = h('input', { 'data-testid': 'admin-username', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false' });
  const password = h('input', { type: 'password', 'data-testid': 'admin-password', autocomplete: 'off' });
  const domain = h('input', { 'data-testid': 'admin-domain', autocomplete: 'off', spellcheck: 'false' });
  const button = h('button', { class: 'primary', type: 'submit', 'data-testid': 'admin-sign-in' }, t('admin.sign-in.submit'));
  const form = h('form', { class: 'card' },
    h('h1', {}, t('admin.sign-in.title')),
    h('p', { class: 'subtle', 'data-testid': 'admin-explanation' }, t('admin.sign-in.note', { name: ctx.state.controller?.name ?? '' })),
    h('label', {}, t('login.username')), username,
    h('label', {}, t('login.password')), password,
    h('details', {}, h('summary', {}, t('login.domain')), domain),
    h('div', { class: 'buttons' }, cancelButton(ctx), button),
    status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      button.disabled = true;
      const result = await ctx.bridge.call('adminSignIn', { username: username.value, password: password.value, ...(domain.value ? { domain: domain.value } : {}) });
      button.disabled = false;
      password.value = '';
      if (!result.ok) return mount(status, errorBox(result.error));
      ctx.state = result.value;
      choosePin(ctx);
    })();
  });
  mount(ctx.root, h('div', { class: 'screen admin', 'data-testid': 'admin-screen' }, form));
  username.focus();
}

/** After a site administrator's sign-in: the PIN first, nothing else until it is set. */
function choosePin(ctx: Context): void {
  const status = h('div', { class: 'status' });
  const pin = h('input', { type: 'password', inputmode: 'numeric', 'data-testid': 'admin-new-pin', autocomplete: 'off' });
  const again = h('input', { type: 'password', inputmode: 'numeric', 'data-testid': 'admin-new-pin-again', autocomplete: 'off' });
  const form = h('form', { class: 'card' },
    h('h1', {}, t('admin.set-pin.title')),
    ctx.state.netbooted ? noticeBox(t('admin.set-pin.netbooted')) : null,
    h('label', {}, t('admin.set-pin')), pin,
    h('label', {}, t('admin.pin-again')), again,
    h('div', { class: 'buttons' }, cancelButton(ctx), h('button', { class: 'primary', type: 'submit', 'data-testid': 'admin-pin-save' }, t('admin.save'))),
    status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!PIN.test(pin.value)) return mount(status, errorBox({ kind: 'invalid-input', message: t('setup.pin-invalid') }));
    if (pin.value !== again.value) return mount(status, errorBox({ kind: 'invalid-input', message: t('setup.pin-mismatch') }));
    void ctx.bridge.call('adminSetPin', { pin: pin.value }).then((result) => {
      pin.value = again.value = '';
      if (!result.ok) return mount(status, errorBox(result.error));
      ctx.state = result.value;
      showPanel(ctx, t('admin.saved'));
    });
  });
  mount(ctx.root, h('div', { class: 'screen admin', 'data-testid': 'admin-screen' }, form));
  pin.focus();
}

function home(ctx: Context): Route {
  return !ctx.state.controller ? { view: 'setup' } : ctx.state.session ? { view: 'desktops' } : { view: 'login' };
}

const TABS = ['controller', 'network', 'display', 'language', 'diagnostics', 'logs', 'terminal', 'boot-server', 'update'] as const;
type Tab = (typeof TABS)[number];

/** The admin tab on screen: a panel redrawn (e.g. in the newly chosen language) stays on it. */
let openTab: Tab = 'controller';

function showPanel(ctx: Context, notice?: string, tab: Tab = 'controller'): void {
  const body = h('section', { class: 'tab-body', 'data-testid': 'admin-body' });
  const nav = h('nav', { class: 'tabs' }, ...TABS.map((tab) => h('button', { 'data-testid': `tab-${tab}`, onclick: () => open(tab) }, t(`admin.tab.${tab}` as MessageKey))));
  const lock = h('button', { 'data-testid': 'admin-lock', onclick: () => ctx.go(home(ctx)) }, t('admin.lock'));
  const open = (tab: Tab): void => {
    terminalCleanup?.();
    terminalCleanup = null;
    openTab = tab;
    for (const button of nav.querySelectorAll('button')) button.classList.toggle('active', button.dataset.testid === `tab-${tab}`);
    void TAB_VIEWS[tab](ctx, body);
  };
  mount(ctx.root, h('div', { class: 'screen admin-panel', 'data-testid': 'admin-panel' }, h('header', {}, h('h1', {}, t('admin.title')), h('span', { class: 'spacer' }), lock), nav, body));
  open(tab);
  if (notice) body.prepend(noticeBox(notice));
}

let terminalCleanup: (() => void) | null = null;
/** CSI and OSC sequences (colours, titles) and carriage returns: the plain view shows text only. */
// eslint-disable-next-line no-control-regex -- matching terminal control characters is the point
const ESCAPE_SEQUENCES = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r/g;

const show = (target: HTMLElement, error: KioskError): void => mount(target, errorBox(error));

/** How often the boot server tab rereads the status while it is open (the service acts within seconds). */
const BOOT_SERVER_POLL_MS = 3000;

function bootServerState(view: BootServerView): string {
  switch (view.state) {
    case 'running': {
      const clients = view.clients === 0 ? t('boot.clients.none') : view.clients === 1 ? t('boot.clients.one') : t('boot.clients.many', { count: view.clients });
      return t('boot.state.running', { mode: t(view.mode === 'full' ? 'boot.mode.full' : 'boot.mode.proxy'), interface: view.interface ?? '—', address: view.address ?? '—', clients });
    }
    case 'failed':
    case 'unknown':
      return t(`boot.state.${view.state}`, { error: view.error ?? '—' });
    default:
      return t(`boot.state.${view.state}`);
  }
}

/** The service has not caught up with the switch yet (it watches the file and acts within seconds). */
function bootServerWaiting(view: BootServerView): string | null {
  if (view.switch === 'on' && (view.state === 'off' || view.state === 'stopped')) return t('boot.waiting.on');
  if (view.switch === 'off' && (view.state === 'running' || view.state === 'starting')) return t('boot.waiting.off');
  return null;
}

/** Where this kiosk stands in its controller's fleet: enrolled as a name, not registered, the last check-in. */
function fleetSection(fleet: KioskState['fleet']): HTMLElement {
  const section = h('div', { class: 'fleet-section', 'data-testid': 'fleet-state', 'data-state': fleet?.state ?? 'off' }, h('h2', {}, t('fleet.title')));
  if (!fleet) {
    section.append(h('p', { class: 'fleet-state' }, t('fleet.off')));
    return section;
  }
  const values = { name: fleet.name ?? '—', controller: fleet.controller ?? '—' };
  section.append(h('p', { class: 'fleet-state' }, t(`fleet.state.${fleet.state}`, values)));
  if (fleet.problem && fleet.state !== 'enrolled') section.append(h('p', { class: 'subtle', 'data-testid': 'fleet-problem' }, fleet.problem));
  if (fleet.state !== 'no-controller') {
    section.append(h('p', { class: 'subtle', 'data-testid': 'fleet-last-check-in' }, fleet.lastCheckIn ? t('fleet.last-check-in', { at: new Date(fleet.lastCheckIn).toLocaleString() }) : t('fleet.never')));
  }
  if (fleet.revision) section.append(h('p', { class: 'subtle' }, t('fleet.revision', { revision: fleet.revision })));
  return section;
}

function bootServerTime(at: string): string {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? at : date.toLocaleTimeString();
}

const TAB_VIEWS: Record<Tab, (ctx: Context, body: HTMLElement) => Promise<void> | void> = {
  controller(ctx, body) {
    const url = h('input', { 'data-testid': 'admin-controller-url', value: ctx.state.controller?.url ?? '' });
    const idle = h('input', { type: 'number', min: 0, max: 1440, 'data-testid': 'admin-idle', value: Math.round(ctx.state.idleLogoutSeconds / 60) });
    const newPin = h('input', { type: 'password', inputmode: 'numeric', 'data-testid': 'admin-new-pin', autocomplete: 'off' });
    const status = h('div', { class: 'status', 'data-testid': 'admin-status' });
    const done = (result: { ok: true } | { ok: false; error: KioskError }): void => mount(status, result.ok ? noticeBox(t('admin.saved')) : errorBox(result.error));
    mount(body,
      h('label', {}, t('setup.address')), url,
      h('button', { 'data-testid': 'admin-controller-save', onclick: () => void ctx.bridge.call('saveController', { url: url.value }).then((r) => { if (r.ok) ctx.state = r.value; done(r); }) }, t('setup.check')),
      h('label', {}, t('admin.idle')), idle,
      h('button', { 'data-testid': 'admin-idle-save', onclick: () => void ctx.bridge.call('adminSetIdleLogout', { seconds: Number(idle.value) * 60 }).then((r) => { if (r.ok) ctx.state = r.value; done(r); }) }, t('admin.save')),
      h('label', {}, t('admin.set-pin')), newPin,
      h('button', { 'data-testid': 'admin-pin-save', onclick: () => void ctx.bridge.call('adminSetPin', { pin: newPin.value }).then((r) => { newPin.value = ''; if (r.ok) ctx.state = r.value; done(r); }) }, t('admin.save')),
      status,
      fleetSection(ctx.state.fleet));
  },
  async network(ctx, body) {
    const devices = await ctx.bridge.call('networkStatus', {});
    const wifi = h('div', {});
    const status = h('div', { class: 'status' });
    mount(body,
      devices.ok
        ? h('table', {}, h('tbody', {}, ...devices.value.devices.map((d) => h('tr', {}, h('td', {}, d.device), h('td', {}, d.type), h('td', {}, d.state), h('td', {}, d.connection ?? '—')))))
        : errorBox(devices.error),
      h('button', {
        'data-testid': 'wifi-scan',
        onclick: () => void ctx.bridge.call('wifiScan', {}).then((r) => {
          if (!r.ok) return show(wifi, r.error);
          mount(wifi, ...r.value.networks.map((n) => {
            const password = h('input', { type: 'password', placeholder: t('admin.wifi.password'), autocomplete: 'off' });
            return h('div', { class: 'row' }, h('span', {}, `${n.ssid} (${n.signal}%, ${n.security || 'open'})`), password,
              h('button', { onclick: () => void ctx.bridge.call('wifiConnect', { ssid: n.ssid, ...(password.value ? { password: password.value } : {}) }).then((c) => mount(status, c.ok ? noticeBox(c.value.message) : errorBox(c.error))) }, t('admin.wifi.connect')));
          }));
        }),
      }, t('admin.wifi.scan')), wifi, status);
  },
  async display(ctx, body) {
    const [displays, audio] = await Promise.all([ctx.bridge.call('displayOutputs', {}), ctx.bridge.call('audioOutputs', {})]);
    const status = h('div', { class: 'status' });
    mount(body,
      displays.ok ? h('div', { 'data-testid': 'display-outputs' }, ...displays.value.outputs.map((o) => {
        const select = h('select', {}, ...o.modes.map((mode) => h('option', { value: mode, selected: mode === o.current }, mode)));
        return h('div', { class: 'row' }, h('span', {}, o.name), select,
          h('button', { onclick: () => void ctx.bridge.call('setDisplayMode', { output: o.name, mode: select.value }).then((r) => mount(status, r.ok ? noticeBox(t('admin.saved')) : errorBox(r.error))) }, t('admin.set-default')));
      })) : errorBox(displays.error),
      audio.ok ? h('div', { 'data-testid': 'audio-outputs' }, ...audio.value.outputs.map((o) => h('div', { class: 'row' }, h('span', {}, `${o.name}${o.isDefault ? ' ✓' : ''}`),
        h('button', { onclick: () => void ctx.bridge.call('setAudioOutput', { id: o.id }).then((r) => mount(status, r.ok ? noticeBox(t('admin.saved')) : errorBox(r.error))) }, t('admin.set-default'))))) : errorBox(audio.error),
      status);
  },
  language(ctx, body) {
    const choose = (language: 'en' | 'zh-CN', label: string): HTMLElement => h('button', {
      'data-testid': `admin-language-${language}`,
      onclick: () => void ctx.bridge.call('adminSetLanguage', { language }).then((r) => {
        if (!r.ok) return show(body, r.error);
        ctx.state = r.value;
        setLanguage(r.value.language);
        // In the tab the administrator is on by now (they may have moved on before the answer came).
        showPanel(ctx, undefined, openTab);
      }),
    }, label);
    mount(body, h('p', {}, t('common.language')), h('p', { class: 'subtle' }, t('admin.language.note')), choose('en', 'English'), choose('zh-CN', '简体中文'));
  },
  async diagnostics(ctx, body) {
    const run = async (): Promise<void> => {
      mount(list, h('p', { class: 'subtle' }, '…'));
      const result = await ctx.bridge.call('diagnostics', {});
      if (!result.ok) return show(list, result.error);
      mount(list, h('table', {}, h('tbody', {}, ...result.value.checks.map((c) => h('tr', { 'data-testid': 'diagnostic', 'data-ok': String(c.ok) },
        h('td', {}, c.ok ? '✓' : '✗'), h('td', {}, c.name), h('td', {}, c.detail))))));
    };
    const list = h('div', {});
    mount(body, h('button', { 'data-testid': 'diagnostics-run', onclick: () => void run() }, t('admin.run')), list);
    await run();
  },
  async logs(ctx, body) {
    const result = await ctx.bridge.call('logs', {});
    mount(body, result.ok ? h('pre', { class: 'log', 'data-testid': 'log-view' }, result.value.lines.map((l) => `${l.at} ${l.level.toUpperCase()} ${l.message}`).join('\n')) : errorBox(result.error));
  },
  async terminal(ctx, body) {
    const output = h('pre', { class: 'terminal', tabindex: 0, 'data-testid': 'terminal-output' });
    mount(body, output);
    // Listen before opening: the shell's first output (its prompt) travels on the event stream and
    // can arrive before terminalOpen's answer says which terminal it belongs to. It is kept until then.
    let terminalId: string | null = null;
    const early: { terminalId: string; data: string }[] = [];
    const append = (data: string): void => {
      output.textContent = (output.textContent + data.replace(ESCAPE_SEQUENCES, '')).slice(-20000);
      output.scrollTop = output.scrollHeight;
    };
    const unsubscribe = ctx.onEvent((event) => {
      if (event.type !== 'terminal-output') return;
      if (terminalId === null) early.push(event);
      else if (event.terminalId === terminalId) append(event.data);
    });
    const opened = await ctx.bridge.call('terminalOpen', { cols: 100, rows: 30 });
    if (!opened.ok) {
      unsubscribe();
      return show(body, opened.error);
    }
    const id = opened.value.terminalId;
    terminalId = id;
    // A plain-text terminal: enough for a technician's commands; escape sequences are stripped.
    for (const event of early.splice(0)) if (event.terminalId === id) append(event.data);
    // Keys go one call at a time, in order: separate calls in flight together can overtake each
    // other (the browser spreads them over several connections), which scrambled fast typing.
    let unsent = '';
    let sending = false;
    const send = (data: string): void => {
      unsent += data;
      if (sending) return;
      sending = true;
      void (async () => {
        try {
          while (unsent) {
            const chunk = unsent;
            unsent = '';
            await ctx.bridge.call('terminalInput', { terminalId: id, data: chunk });
          }
        } finally {
          sending = false;
        }
      })();
    };
    const keys: Record<string, string> = { Enter: '\r', Backspace: '\x7f', Tab: '\t', Escape: '\x1b', ArrowUp: '\x1b[A', ArrowDown: '\x1b[B', ArrowRight: '\x1b[C', ArrowLeft: '\x1b[D' };
    output.addEventListener('keydown', (event) => {
      let data = keys[event.key] ?? (event.key.length === 1 ? event.key : '');
      if (event.ctrlKey && event.key.length === 1) data = String.fromCharCode(event.key.toUpperCase().charCodeAt(0) - 64);
      if (!data) return;
      event.preventDefault();
      send(data);
    });
    output.focus();
    // Keys typed before this point had nowhere to go: say when the terminal takes input.
    output.dataset.ready = 'true';
    terminalCleanup = () => {
      unsubscribe();
      void ctx.bridge.call('terminalClose', { terminalId: id });
    };
  },
  async 'boot-server'(ctx, body) {
    const section = h('div', { class: 'boot-server', 'data-testid': 'boot-server' });
    const status = h('div', { class: 'status', 'data-testid': 'boot-server-status' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const render = (view: BootServerView): void => {
      const waiting = bootServerWaiting(view);
      const choose = (enabled: boolean): void => {
        mount(status);
        void ctx.bridge.call('setBootServer', { enabled }).then((r) => (r.ok ? render(r.value) : show(status, r.error)));
      };
      // An open list of events stays open across rereads.
      const eventsOpen = section.querySelector('details')?.open ?? false;
      const parts: (Node | null)[] = [
        h('p', { class: 'boot-state', 'data-testid': 'boot-server-state', 'data-state': view.state }, bootServerState(view)),
        view.reason ? h('p', { class: 'subtle' }, view.reason) : null,
        view.unavailable ? noticeBox(view.unavailable) : h('p', { 'data-testid': 'boot-server-switch', 'data-switch': view.switch }, t(`boot.switch.${view.switch}`), waiting ? ` ${waiting}` : ''),
        view.problems.length ? h('div', { 'data-testid': 'boot-server-problems' }, h('p', {}, t('boot.problems')), h('ul', {}, ...view.problems.map((p) => h('li', {}, p)))) : null,
        h('div', { class: 'row' },
          h('button', { class: 'primary', 'data-testid': 'boot-server-on', disabled: Boolean(view.unavailable) || view.switch === 'on', onclick: () => choose(true) }, t('boot.turn-on')),
          h('button', { 'data-testid': 'boot-server-off', disabled: Boolean(view.unavailable) || view.switch === 'off', onclick: () => choose(false) }, t('boot.turn-off')),
          h('button', { 'data-testid': 'boot-server-refresh', onclick: () => void refresh() }, t('admin.refresh'))),
        h('p', { class: 'subtle' }, t('boot.note')),
        view.events.length ? h('details', { 'data-testid': 'boot-server-events' }, h('summary', {}, t('boot.events')),
          h('table', {}, h('tbody', {}, ...view.events.map((e) => h('tr', {}, h('td', {}, bootServerTime(e.at)), h('td', {}, e.kind.toUpperCase()), h('td', { class: 'mono' }, e.client), h('td', { class: 'mono' }, e.detail)))))) : null,
      ];
      mount(section, ...parts.filter((part): part is Node => part !== null));
      const details = section.querySelector('details');
      if (details) details.open = eventsOpen;
    };
    // Reread while the tab is shown: the service acts on the switch a few seconds after it is set.
    const refresh = async (): Promise<void> => {
      clearTimeout(timer);
      if (!section.isConnected) return;
      const result = await ctx.bridge.call('bootServerStatus', {});
      if (!section.isConnected) return;
      if (!result.ok) return show(section, result.error);
      render(result.value);
      timer = setTimeout(() => void refresh(), BOOT_SERVER_POLL_MS);
    };
    mount(body, section, status);
    await refresh();
  },
  update: updateTab,
};
