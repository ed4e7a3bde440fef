/** The audit log: every change an administrator made, newest first, with who made it. */
import type { AuditEntry } from '../../../contract/fleet-admin.js';
import { AdminError } from './api.js';
import { h, mount } from './dom.js';
import { ago, when } from './format.js';
import { errorBox, reloadingView, type AdminContext, type View } from './ui.js';

export function auditView(ctx: AdminContext): View {
  const filter = h('input', { type: 'search', 'data-testid': 'audit-filter', placeholder: 'Filter: who, what, target…', autocomplete: 'off', 'aria-label': 'Filter the audit log' });
  const list = h('div', { class: 'table-box' });
  const status = h('div', { class: 'page-part' });
  let entries: AuditEntry[] = [];

  const draw = (): void => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = entries
      .filter((e) => words.every((word) => [e.who, e.action, e.target, e.detail].join(' ').toLowerCase().includes(word)))
      .sort((a, b) => b.at.localeCompare(a.at));
    mount(list, shown.length
      ? h('table', { class: 'compact', 'data-testid': 'audit-table' },
        h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Target', 'Detail'].map((t) => h('th', {}, t)))),
        h('tbody', {}, shown.map((e) => h('tr', { 'data-testid': 'audit-entry' },
          h('td', { title: ago(e.at) }, when(e.at)),
          h('td', { 'data-testid': 'audit-who' }, e.who),
          h('td', { class: 'mono', 'data-testid': 'audit-action' }, e.action),
          h('td', { 'data-testid': 'audit-target' }, e.target),
          h('td', { class: 'detail' }, e.detail)))))
      : h('p', { class: 'empty' }, entries.length ? 'No entry matches the filter.' : 'No changes recorded yet.'));
  };

  const load = async (): Promise<void> => {
    try {
      entries = (await ctx.api.call('audit', {})).entries;
      mount(status);
      draw();
    } catch (error) {
      if (!(error instanceof AdminError && error.kind === 'session-ended')) mount(status, errorBox(error));
    }
  };
  filter.addEventListener('input', draw);

  const element = h('section', { class: 'view audit-view', 'data-testid': 'audit-view', hidden: true },
    h('div', { class: 'toolbar' }, h('h2', {}, 'Audit log'), filter, h('span', { class: 'spacer' }), h('button', { 'data-testid': 'audit-reload', onclick: () => void load() }, 'Reload')),
    status, list);
  return reloadingView(element, load);
}
