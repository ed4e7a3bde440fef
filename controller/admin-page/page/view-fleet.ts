/**
 * The fleet table: every kiosk with its state, versions, where its update stands, addresses, who
 * sits at it, its health and when it last checked in; filtered by text and state. It rereads the list every 10 s while shown
 * and changes only the cells whose text changed, so the admin's scroll position, text selection,
 * chosen row and filter all stay.
 */
import type { KioskSummary } from '../../../contract/fleet-admin.js';
import { h } from './dom.js';
import { ago, when } from './format.js';
import { AdminError } from './api.js';
import { outcomeFailed, outcomeText, phaseFailed, phaseText } from './update-words.js';
import { type AdminContext, type View } from './ui.js';

const REFRESH_MS = 10_000;
const STATES = ['online', 'late', 'offline'] as const;

export function fleetView(ctx: AdminContext, first: KioskSummary[]): View {
  const text = h('input', { type: 'search', placeholder: 'Filter: name, group, address, person, version…', 'data-testid': 'fleet-filter', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Filter kiosks' });
  const state = h('select', { 'data-testid': 'fleet-state-filter', 'aria-label': 'State' },
    h('option', { value: '' }, 'all states'), STATES.map((s) => h('option', { value: s }, s)));
  const counts = h('span', { class: 'subtle', 'data-testid': 'fleet-counts' });
  const body = h('tbody', {});
  const empty = h('p', { class: 'empty', 'data-testid': 'fleet-empty', hidden: true });
  const table = h('table', { class: 'fleet', 'data-testid': 'fleet-table' },
    h('thead', {}, h('tr', {}, ['State', 'Name', 'Group', 'Versions', 'Update', 'Host and addresses', 'Person', 'Temperature', 'Last crash', 'Last check-in', 'Settings'].map((title) => h('th', { scope: 'col' }, title)))),
    body);
  const element = h('section', { class: 'view fleet-view', 'data-testid': 'fleet-view' },
    h('div', { class: 'toolbar' }, h('h2', {}, 'Kiosks'), text, state, h('span', { class: 'spacer' }), counts),
    h('div', { class: 'table-box' }, table, empty));

  const rows = new Map<string, HTMLTableRowElement>();
  let kiosks = first;
  let selected: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let shown = false;
  let scrollTop = 0;

  const draw = (): void => {
    const sorted = [...kiosks].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }) || a.id.localeCompare(b.id));
    const seen = new Set<string>();
    sorted.forEach((kiosk, index) => {
      seen.add(kiosk.id);
      const fresh = row(kiosk);
      let current = rows.get(kiosk.id);
      if (!current) {
        current = fresh;
        rows.set(kiosk.id, current);
        current.addEventListener('click', (event) => {
          if ((event.target as Element).closest('a')) return;
          selected = selected === kiosk.id ? null : kiosk.id;
          for (const [id, r] of rows) r.setAttribute('aria-selected', String(id === selected));
        });
      } else {
        // Only what changed: a cell the admin is selecting text in stays the same node.
        for (const [name, value] of Object.entries(fresh.dataset)) current.dataset[name] = value;
        [...fresh.cells].forEach((cell, i) => {
          const old = current!.cells[i];
          if (old && old.outerHTML !== cell.outerHTML) old.replaceWith(cell);
        });
      }
      current.setAttribute('aria-selected', String(kiosk.id === selected));
      if (body.children[index] !== current) body.insertBefore(current, body.children[index] ?? null);
    });
    for (const [id, r] of rows) {
      if (seen.has(id)) continue;
      r.remove();
      rows.delete(id);
    }
    filter();
  };

  const filter = (): void => {
    const words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
    let visible = 0;
    for (const kiosk of kiosks) {
      const r = rows.get(kiosk.id);
      if (!r) continue;
      const haystack = searchText(kiosk);
      const match = (!state.value || kiosk.state === state.value) && words.every((word) => haystack.includes(word));
      r.hidden = !match;
      if (match) visible++;
    }
    const byState = STATES.map((s) => `${kiosks.filter((k) => k.state === s).length} ${s}`).join(', ');
    counts.textContent = `${kiosks.length} kiosk${kiosks.length === 1 ? '' : 's'}: ${byState}${visible !== kiosks.length ? ` — showing ${visible}` : ''}`;
    empty.hidden = visible > 0;
    empty.textContent = kiosks.length === 0
      ? 'No kiosk has enrolled yet. Make a site token under Enrolment and put it into the kiosks\' thinkiosk.conf, or register their MAC addresses.'
      : 'No kiosk matches the filter.';
  };

  const refresh = async (): Promise<void> => {
    clearTimeout(timer);
    try {
      kiosks = (await ctx.api.call('kiosks', {})).kiosks;
      ctx.pageStatus(null);
      draw();
    } catch (error) {
      if (error instanceof AdminError && error.kind === 'session-ended') return;
      ctx.pageStatus(error);
    }
    if (shown) timer = setTimeout(() => void refresh(), REFRESH_MS);
  };

  text.addEventListener('input', filter);
  state.addEventListener('change', filter);
  draw();
  return {
    element,
    show() {
      element.hidden = false;
      element.scrollTop = scrollTop;
      if (!shown) {
        shown = true;
        void refresh();
      }
    },
    hide() {
      scrollTop = element.scrollTop;
      element.hidden = true;
      shown = false;
      clearTimeout(timer);
    },
    dispose() {
      shown = false;
      clearTimeout(timer);
    },
  };
}

function searchText(kiosk: KioskSummary): string {
  const update = kiosk.update;
  return [kiosk.name, kiosk.group, kiosk.hostname, ...kiosk.addresses, kiosk.kioskVersion, kiosk.imageVersion, kiosk.session?.user, kiosk.session?.desktop, kiosk.state,
    update && phaseText(update), update?.lastTrial && outcomeText(update.lastTrial.outcome)]
    .filter(Boolean).join(' ').toLowerCase();
}

/** What the update agent is doing, and under it how the last trial ended (a failed one stands out). */
function updateCell(kiosk: KioskSummary): HTMLTableCellElement {
  const update = kiosk.update;
  if (!update) return h('td', { class: 'small', 'data-testid': 'kiosk-update' }, h('span', { class: 'subtle', title: 'This kiosk reports no update state (an image without A/B updates, or not checked in yet).' }, '—'));
  const trial = update.lastTrial;
  return h('td', { class: 'small', 'data-testid': 'kiosk-update', 'data-phase': update.phase, 'data-last-trial': trial?.outcome },
    h('div', { class: phaseFailed(update.phase) ? 'warning' : update.phase === 'idle' ? 'subtle' : undefined, 'data-testid': 'update-phase' }, phaseText(update)),
    trial ? h('div', { class: outcomeFailed(trial.outcome) ? 'warning' : 'subtle', title: when(trial.at), 'data-testid': 'update-last-trial' },
      `${outcomeFailed(trial.outcome) ? '⚠ ' : ''}${trial.version} ${outcomeText(trial.outcome)}, ${ago(trial.at)}`) : null);
}

function row(kiosk: KioskSummary): HTMLTableRowElement {
  const person = kiosk.session;
  const throttled = kiosk.throttled ? h('div', { class: 'warning', 'data-testid': 'throttled' }, '⚠ throttled or under-voltage') : null;
  return h('tr', { 'data-kiosk-id': kiosk.id, 'data-state': kiosk.state, 'data-testid': 'kiosk-row' },
    h('td', {}, h('span', { class: `state state-${kiosk.state}`, 'data-testid': 'kiosk-state' }, kiosk.state)),
    h('td', { class: 'nowrap' }, h('a', { href: `#/kiosks/${encodeURIComponent(kiosk.id)}`, 'data-testid': 'kiosk-name' }, kiosk.name)),
    h('td', {}, kiosk.group ?? h('span', { class: 'subtle' }, '—')),
    h('td', { class: 'small nowrap' }, h('div', {}, `app ${kiosk.kioskVersion ?? '—'}`), h('div', { class: 'subtle' }, `image ${kiosk.imageVersion ?? '—'}`)),
    updateCell(kiosk),
    h('td', { class: 'small' }, h('div', { class: 'mono' }, kiosk.hostname ?? '—'), kiosk.addresses.map((address) => h('div', { class: 'mono subtle' }, address))),
    h('td', { class: 'small', 'data-testid': 'kiosk-person' }, person
      ? [h('div', {}, person.user), h('div', { class: 'subtle' }, [person.desktop ?? 'choosing a desktop', person.protocol ? ` · ${person.protocol.toUpperCase()}` : ''].join(''))]
      : h('span', { class: 'subtle' }, 'nobody')),
    h('td', { class: 'small' }, kiosk.temperatureC === null ? '—' : `${kiosk.temperatureC.toFixed(1)} °C`, throttled),
    h('td', { class: 'small' }, kiosk.lastCrash ? [h('div', { title: when(kiosk.lastCrash.at) }, ago(kiosk.lastCrash.at)), h('div', { class: 'subtle' }, kiosk.lastCrash.reason)] : h('span', { class: 'subtle' }, 'none')),
    h('td', { class: 'nowrap', title: when(kiosk.lastCheckIn), 'data-testid': 'kiosk-check-in' }, ago(kiosk.lastCheckIn)),
    h('td', { 'data-testid': 'kiosk-settings-applied' }, kiosk.settingsApplied ? h('span', { class: 'ok' }, '✓ applied') : h('span', { class: 'warning' }, 'not yet applied')));
}
