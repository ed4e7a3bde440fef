/**
 * The admin screen's Update tab: what root's update service reports (running version, slots, the
 * last trial, what it is doing now with a progress bar), and the two ways an administrator starts
 * an update here: a bundle's address, or the USB stick. The page only asks; the service checks the
 * signature and the version. An older version is never offered here: whether one may be installed
 * is the boot partition's settings' or the fleet's decision (update_allow_downgrade), so a person
 * with the PIN cannot take a kiosk back to a version with known holes.
 */
import type { KioskError, UpdateView } from '../core/kiosk-api.js';
import { errorBox, noticeBox, type Context } from './context.js';
import { h, mount } from './dom.js';
import { t } from './i18n.js';

/** How often the tab rereads the status while it is shown (a download moves in seconds). */
const UPDATE_POLL_MS = 2000;
type UpdateStatus = NonNullable<UpdateView['status']>;
const BUSY = new Set<UpdateStatus['phase']>(['downloading', 'writing', 'verifying', 'rebooting', 'trial']);

function when(at: string): string {
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? at : date.toLocaleString();
}

function statusParts(status: UpdateStatus): (Node | null)[] {
  const version = status.targetVersion ?? '—';
  const last = status.lastTrial;
  return [
    h('p', { class: 'update-version', 'data-testid': 'update-running-version' }, t('update.version', { version: status.runningVersion })),
    h('p', { class: 'subtle', 'data-testid': 'update-slots' }, status.bootedSlot && status.committedSlot
      ? t('update.slots', { booted: status.bootedSlot.toUpperCase(), committed: status.committedSlot.toUpperCase() })
      : t('update.slots.none')),
    h('div', { 'data-testid': 'update-last-trial', 'data-outcome': last?.outcome ?? 'none' },
      h('p', {}, last ? t(`update.last.${last.outcome}`, { version: last.version, slot: last.slot.toUpperCase(), at: when(last.at) }) : t('update.last.none')),
      last ? h('p', { class: 'subtle' }, last.detail) : null),
    h('div', { class: 'update-activity', 'data-testid': 'update-phase', 'data-phase': status.phase },
      h('p', { class: 'update-phase' }, t(`update.phase.${status.phase}`, { version })),
      status.percent !== null ? h('progress', { max: 100, value: status.percent, 'data-testid': 'update-progress' }, `${status.percent}%`) : null,
      status.source && status.phase !== 'idle' ? h('p', { class: 'subtle' }, t('update.source', { source: status.source })) : null,
      status.message ? h('p', { 'data-testid': 'update-message', class: status.phase === 'failed' ? 'update-failed' : undefined }, status.message) : null),
  ];
}

export async function updateTab(ctx: Context, body: HTMLElement): Promise<void> {
  const section = h('div', { class: 'update', 'data-testid': 'update' });
  const url = h('input', { type: 'url', 'data-testid': 'update-url', placeholder: 'https://…/thinkiosk-….tkupdate', autocomplete: 'off', spellcheck: 'false' });
  const installUrl = h('button', { class: 'primary', 'data-testid': 'update-install-url' }, t('update.install'));
  const installUsb = h('button', { 'data-testid': 'update-install-usb' }, t('update.usb'));
  const answer = h('div', { class: 'status', 'data-testid': 'update-answer' });
  let timer: ReturnType<typeof setTimeout> | undefined;

  const render = (view: UpdateView): void => {
    const busy = view.requestWaiting || (view.status !== null && BUSY.has(view.status.phase));
    installUrl.disabled = installUsb.disabled = busy;
    const parts = view.status ? statusParts(view.status) : [h('p', { 'data-testid': 'update-no-status' }, t('update.no-status'))];
    if (view.requestWaiting) parts.push(h('p', { class: 'subtle', 'data-testid': 'update-waiting' }, t('update.waiting')));
    mount(section, ...parts.filter((part): part is Node => part !== null));
  };
  const refresh = async (): Promise<void> => {
    clearTimeout(timer);
    if (!section.isConnected) return;
    const result = await ctx.bridge.call('updateStatus', {});
    if (!section.isConnected) return;
    if (!result.ok) mount(section, errorBox(result.error));
    else render(result.value);
    timer = setTimeout(() => void refresh(), UPDATE_POLL_MS);
  };
  const ask = (request: { source: 'url'; url: string } | { source: 'usb' }): void => {
    mount(answer);
    void ctx.bridge.call('updateInstall', request).then((result) => {
      if (!result.ok) return mount(answer, errorBox(result.error));
      mount(answer, noticeBox(t('update.requested')));
      render(result.value);
    });
  };
  installUrl.addEventListener('click', () => {
    if (!url.value.trim()) return mount(answer, errorBox({ kind: 'invalid-input', message: t('update.url-missing') } satisfies KioskError));
    ask({ source: 'url', url: url.value.trim() });
  });
  installUsb.addEventListener('click', () => ask({ source: 'usb' }));

  mount(body, section,
    h('label', {}, t('update.url')), url,
    h('div', { class: 'row' }, installUrl, installUsb),
    answer,
    h('p', { class: 'subtle' }, t('update.note')));
  await refresh();
}
