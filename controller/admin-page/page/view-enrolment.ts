/**
 * How kiosks join the fleet: site tokens (a kiosk whose thinkiosk.conf holds `fleet_token = …`
 * enrols itself) and registered MAC addresses (a kiosk with one of them enrols without a token,
 * with the name and group given here). A token is shown once, when it is made: the controller
 * keeps only its hash.
 */
import type { Enrolments, Layers } from '../../../contract/fleet-admin.js';
import { AdminError } from './api.js';
import { h, mount } from './dom.js';
import { ago, when } from './format.js';
import { act, confirmDialog, errorBox, reloadingView, type AdminContext, type View } from './ui.js';

/** A MAC as the admin API's path parameter: octets joined by - (contract/fleet-admin.ts macPathParam). */
function macPathParam(mac: string): string {
  return mac.replaceAll(':', '-');
}

/** What people type for a MAC: upper case, dashes, spaces around it. The contract wants 52:54:00:12:34:56. */
function normalMac(text: string): string {
  return text.trim().toLowerCase().replace(/-/g, ':');
}

export function enrolmentView(ctx: AdminContext): View {
  const status = h('div', { class: 'page-part' });
  const label = h('input', { 'data-testid': 'token-label', autocomplete: 'off', maxlength: 64, placeholder: 'e.g. Lab 3 rollout' });
  const made = h('div', { 'data-testid': 'made-token' });
  const tokenStatus = h('div', { class: 'status', 'data-testid': 'token-status' });
  const tokens = h('div', { 'data-testid': 'site-tokens' });
  const tokenForm = h('form', { class: 'row' }, h('label', {}, 'Label ', label), h('button', { type: 'submit', class: 'primary', 'data-testid': 'token-make' }, 'Make site token'));

  const mac = h('input', { 'data-testid': 'mac-address', autocomplete: 'off', spellcheck: 'false', placeholder: '52:54:00:12:34:56' });
  const macName = h('input', { 'data-testid': 'mac-name', autocomplete: 'off', maxlength: 64, placeholder: 'optional' });
  const macGroup = h('select', { 'data-testid': 'mac-group' });
  const macStatus = h('div', { class: 'status', 'data-testid': 'mac-status' });
  const macs = h('div', { 'data-testid': 'registered-macs' });
  const macForm = h('form', { class: 'row wrap' },
    h('label', {}, 'MAC ', mac), h('label', {}, 'Name ', macName), h('label', {}, 'Group ', macGroup),
    h('button', { type: 'submit', class: 'primary', 'data-testid': 'mac-register' }, 'Register'));

  let enrolments: Enrolments = { tokens: [], macs: [] };

  const draw = (): void => {
    mount(tokens, enrolments.tokens.length
      ? h('table', { class: 'compact' },
        h('thead', {}, h('tr', {}, ['Label', 'Made', 'By', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, [...enrolments.tokens].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((token) => h('tr', { 'data-testid': 'site-token' },
          h('td', {}, token.label),
          h('td', { title: when(token.createdAt) }, ago(token.createdAt)),
          h('td', {}, token.createdBy),
          h('td', {}, h('button', {
            class: 'danger-outline', 'data-testid': 'token-delete',
            onclick: () => void (async () => {
              if (!await confirmDialog(`Delete the site token "${token.label}"? Kiosks that enrolled with it stay; new kiosks with it in their thinkiosk.conf are refused.`, 'Delete token')) return;
              const done = await act(tokenStatus, () => ctx.api.call('deleteSiteToken', { id: token.id }).then(() => true), `Token "${token.label}" deleted.`);
              if (done) await load();
            })(),
          }, 'Delete'))))))
      : h('p', { class: 'subtle' }, 'No site tokens.'));
    mount(macs, enrolments.macs.length
      ? h('table', { class: 'compact' },
        h('thead', {}, h('tr', {}, ['MAC', 'Name', 'Group', ''].map((t) => h('th', {}, t)))),
        h('tbody', {}, [...enrolments.macs].sort((a, b) => a.mac.localeCompare(b.mac)).map((m) => h('tr', { 'data-testid': 'registered-mac' },
          h('td', { class: 'mono' }, m.mac), h('td', {}, m.name ?? '—'), h('td', {}, m.group ?? '—'),
          h('td', {}, h('button', {
            class: 'danger-outline', 'data-testid': 'mac-delete',
            onclick: () => void (async () => {
              if (!await confirmDialog(`Take back the registration of ${m.mac}? A kiosk already enrolled with it stays; a box with this MAC can no longer enrol without a site token.`, 'Take back')) return;
              const done = await act(macStatus, () => ctx.api.call('forgetMac', { mac: macPathParam(m.mac) }).then(() => true), `${m.mac} is no longer registered.`);
              if (done) await load();
            })(),
          }, 'Take back'))))))
      : h('p', { class: 'subtle' }, 'No registered MAC addresses.'));
  };

  const drawGroups = (layers: Layers): void => {
    const chosen = macGroup.value;
    mount(macGroup, h('option', { value: '' }, '(none)'), layers.groups.map((g) => h('option', { value: g.name, selected: g.name === chosen }, g.name)));
  };

  const load = async (): Promise<void> => {
    try {
      const [next, layers] = await Promise.all([ctx.api.call('enrolments', {}), ctx.api.call('layers', {})]);
      enrolments = next;
      draw();
      drawGroups(layers);
      mount(status);
    } catch (error) {
      if (!(error instanceof AdminError && error.kind === 'session-ended')) mount(status, errorBox(error));
    }
  };

  tokenForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(tokenStatus, () => ctx.api.call('newSiteToken', {}, { label: label.value.trim() })).then(async (token) => {
      if (!token) return;
      label.value = '';
      mount(made, h('div', { class: 'notice token-once', role: 'status' },
        h('p', {}, `Site token "${token.label}" — shown only now; the controller keeps only its hash. Put this line into thinkiosk.conf on the boot partition of each kiosk that should join:`),
        h('pre', { class: 'mono', 'data-testid': 'made-token-line' }, `fleet_token = ${token.token}`),
        h('button', { type: 'button', onclick: () => made.replaceChildren() }, 'I have copied it')));
      await load();
    });
  });
  macForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { mac: normalMac(mac.value), name: macName.value.trim() || null, group: macGroup.value || null };
    void act(macStatus, () => ctx.api.call('registerMac', {}, body), (m) => `${m.mac} registered.`).then(async (registered) => {
      if (!registered) return;
      mac.value = macName.value = '';
      await load();
    });
  });

  const element = h('section', { class: 'view enrolment-view', 'data-testid': 'enrolment-view', hidden: true },
    h('div', { class: 'toolbar' }, h('h2', {}, 'Enrolment')),
    status,
    h('section', { class: 'panel' }, h('h3', {}, 'Site tokens'),
      h('p', { class: 'subtle' }, 'A kiosk with a site token in its thinkiosk.conf (fleet_token = …) enrols itself at its next start. Delete a token once its kiosks have joined.'),
      tokenForm, tokenStatus, made, tokens),
    h('section', { class: 'panel' }, h('h3', {}, 'Registered MAC addresses'),
      h('p', { class: 'subtle' }, 'A kiosk with one of these network cards enrols without a token, under the name and in the group given here.'),
      macForm, macStatus, macs));

  return reloadingView(element, load, () => made.replaceChildren());
}
