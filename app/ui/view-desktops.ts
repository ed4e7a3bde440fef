/** The user's desktops: state, addresses, OS, protocol; connect and power actions; refreshes itself. */
import type { Protocol } from '../../contract/api.js';
import type { KioskValue } from '../core/kiosk-api.js';
import { backToLogin, confirmDialog, errorBox, noticeBox, type Context } from './context.js';
import { h, mount } from './dom.js';
import { t, type MessageKey } from './i18n.js';

type DesktopRow = KioskValue<'desktops'>['desktops'][number];
const AUTO_REFRESH_MS = 15_000;
let refreshTimer: number | undefined;
/** Counts visits to the list: an answer that arrives after the list was left is dropped. */
let visits = 0;

export function leaveDesktops(): void {
  visits += 1;
  if (refreshTimer !== undefined) clearInterval(refreshTimer);
  refreshTimer = undefined;
}

/**
 * The preset's auto_connect (a lab PC's own desktop): opened once, right after a login, when that
 * desktop is in the list and running; otherwise the list says why and stays. Coming back from the
 * session (Disconnect) shows the list, not the desktop again.
 */
function autoConnect(ctx: Context, desktops: DesktopRow[], status: HTMLElement): boolean {
  const wanted = ctx.state.autoConnect;
  if (!wanted) return false;
  const desktop = desktops.find((d) => d.id === wanted) ?? desktops.find((d) => d.name === wanted);
  if (!desktop) {
    mount(status, noticeBox(t('desktops.auto.missing', { name: wanted })));
    return false;
  }
  if (!connectable(desktop)) {
    mount(status, noticeBox(t('desktops.auto.notRunning', { name: desktop.name })));
    return false;
  }
  ctx.go({ view: 'session', desktopId: desktop.id, desktopName: desktop.name, ...(desktop.protocol ? { likely: desktop.protocol } : {}) });
  return true;
}

export function showDesktops(ctx: Context, notice?: string, afterLogin = false): void {
  let autoConnectPending = afterLogin;
  const status = h('div', { class: 'status', 'data-testid': 'desktops-status' }, notice ? noticeBox(notice) : null);
  const list = h('div', { class: 'desktops', 'data-testid': 'desktop-list' }, h('p', { class: 'subtle' }, t('desktops.loading')));
  const refresh = async (): Promise<void> => {
    const visit = visits;
    const result = await ctx.bridge.call('desktops', {});
    if (visit !== visits) return;
    if (!result.ok) {
      if (result.error.kind === 'session-expired') return backToLogin(ctx, result.error.message);
      mount(list, errorBox(result.error), h('button', { 'data-testid': 'retry', onclick: () => void refresh() }, t('desktops.refresh')));
      return;
    }
    if (autoConnectPending) {
      autoConnectPending = false;
      if (autoConnect(ctx, result.value.desktops, status)) return;
    }
    if (result.value.desktops.length === 0) return mount(list, h('p', { class: 'empty', 'data-testid': 'desktops-empty' }, t('desktops.empty')));
    mount(list, table(ctx, result.value.desktops, status, refresh));
  };
  const header = h('header', {},
    h('h1', {}, t('desktops.title')),
    h('span', { class: 'subtle', 'data-testid': 'current-user' }, t('desktops.user', { user: ctx.state.session?.user ?? '' })),
    h('span', { class: 'spacer' }),
    h('button', { 'data-testid': 'refresh', onclick: () => void refresh() }, t('desktops.refresh')),
    h('button', {
      'data-testid': 'logout',
      onclick: () => void ctx.bridge.call('logout', {}).then((r) => {
        if (r.ok) ctx.state = r.value;
        ctx.go({ view: 'login' });
      }),
    }, t('desktops.logout')));
  mount(ctx.root, h('div', { class: 'screen desktops-screen', 'data-testid': 'desktops-screen' }, header, status, list));
  leaveDesktops();
  refreshTimer = window.setInterval(() => void refresh(), AUTO_REFRESH_MS);
  void refresh();
}

/**
 * Running, or a static desktop the controller has not checked recently (UNKNOWN): the controller
 * checks seldom so as not to trip the desktops' defences, and a connect says soon enough if it is off.
 */
function connectable(desktop: DesktopRow): boolean {
  return (desktop.status === 'ACTIVE' || desktop.status === 'UNKNOWN') && desktop.protocol !== null;
}

function stateKey(desktop: DesktopRow): MessageKey {
  switch (desktop.status) {
    case 'ACTIVE': return 'state.running';
    case 'UNKNOWN': return 'state.unknown';
    case 'SHUTOFF': return 'state.shutdown';
    case 'BUILD': return 'state.building';
    case 'ERROR': return 'state.error';
    default: return 'state.other';
  }
}

function table(ctx: Context, desktops: DesktopRow[], status: HTMLElement, refresh: () => Promise<void>): HTMLElement {
  const head = h('tr', {}, ...(['desktops.col.name', 'desktops.col.state', 'desktops.col.ip', 'desktops.col.os', 'desktops.col.mac', 'desktops.col.protocol', 'desktops.col.actions'] as const).map((key) => h('th', {}, t(key))));
  const rows = desktops.map((desktop) => {
    const address = desktop.addresses.find((a) => a.kind === 'floating') ?? desktop.addresses[0];
    const family = t(`os.${desktop.guestOs.family}`);
    // "Windows 11", "Linux debian 13": the distro only when it says more than the family.
    const distro = desktop.guestOs.distro && desktop.guestOs.distro.toLowerCase() !== family.toLowerCase() ? desktop.guestOs.distro : null;
    const os = [family, distro, desktop.guestOs.version].filter(Boolean).join(' ');
    const running = desktop.status === 'ACTIVE';
    // The recommended protocol first; the others stay one click away (e.g. VNC when SPICE misbehaves).
    const choice = desktop.protocols.length > 1 && desktop.protocol
      ? h('select', { 'data-testid': 'protocol-choice', 'aria-label': t('desktops.col.protocol') },
        ...[desktop.protocol, ...desktop.protocols.filter((p) => p !== desktop.protocol)].map((p) => h('option', { value: p }, p.toUpperCase())))
      : null;
    const power = (action: 'start' | 'stop' | 'reboot'): HTMLElement => h('button', {
      'data-testid': `power-${action}`,
      onclick: () => void (async () => {
        if (!(await confirmDialog(t(`desktops.confirm.${action}`, { name: desktop.name }), t(`desktops.${action}`)))) return;
        const result = await ctx.bridge.call('power', { id: desktop.id, action });
        mount(status, result.ok ? noticeBox(result.value.message) : errorBox(result.error));
        await refresh();
      })(),
    }, t(`desktops.${action}`));
    return h('tr', { 'data-testid': 'desktop', 'data-desktop-id': desktop.id, 'data-status': desktop.status },
      h('td', { class: 'name' }, h('strong', { 'data-testid': 'desktop-name' }, desktop.name), desktop.fault ? h('div', { class: 'fault', 'data-testid': 'desktop-fault' }, desktop.fault) : null),
      h('td', {}, h('span', {
        class: `badge ${desktop.status.toLowerCase()}`, 'data-testid': 'desktop-state',
        ...(desktop.status === 'UNKNOWN' ? { title: t('state.unknown-hint') } : {}),
      }, t(stateKey(desktop), { status: desktop.status }), desktop.task ? ` (${desktop.task})` : '')),
      h('td', { 'data-testid': 'desktop-ip' }, address?.ip ?? '—'),
      h('td', { 'data-testid': 'desktop-os' }, os),
      h('td', { class: 'mono', 'data-testid': 'desktop-mac' }, address?.mac ?? '—'),
      h('td', { 'data-testid': 'desktop-protocol' }, desktop.protocol?.toUpperCase() ?? '—'),
      h('td', { class: 'actions' },
        h('button', {
          class: 'primary', 'data-testid': 'connect', disabled: !connectable(desktop),
          onclick: () => ctx.go({
            view: 'session', desktopId: desktop.id, desktopName: desktop.name,
            ...(choice && choice.value !== desktop.protocol ? { protocol: choice.value as Protocol } : {}),
            ...(desktop.protocol ? { likely: (choice?.value as Protocol | undefined) ?? desktop.protocol } : {}),
          }),
        }, t('desktops.connect')),
        choice,
        desktop.powerControl && !running && desktop.status !== 'BUILD' ? power('start') : null,
        desktop.powerControl && running ? power('stop') : null,
        desktop.powerControl && running ? power('reboot') : null));
  });
  return h('table', {}, h('thead', {}, head), h('tbody', {}, ...rows));
}
