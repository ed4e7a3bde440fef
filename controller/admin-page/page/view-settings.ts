/**
 * The site's default settings and the groups' settings, each key with its rule. A group is made by
 * saving settings under a new name, and deleted here (its kiosks then take the site's values). A
 * value the controller refuses (400, with the key's rule) is shown next to its form with the key
 * marked, and nothing the admin typed is lost; forms the admin has not touched follow the
 * controller when the view is shown again. Each group says which image versions its kiosks run, and
 * how many are on its update_version (its own, or the site's) when one is set.
 */
import type { Group, Layers } from '../../../contract/fleet-admin.js';
import { AdminError } from './api.js';
import { h, mount } from './dom.js';
import { SettingsEditor, type Inherited } from './settings-editor.js';
import { confirmDialog, errorBox, noticeBox, reloadingView, type AdminContext, type View } from './ui.js';
import { versionsLine } from './update-words.js';

interface GroupCard {
  element: HTMLElement;
  editor: SettingsEditor;
  count: HTMLElement;
  versions: HTMLElement;
}

export function settingsView(ctx: AdminContext): View {
  const status = h('div', { class: 'page-part' });
  const site = new SettingsEditor(ctx.rules, 'site-settings');
  const siteStatus = h('div', { class: 'status', 'data-testid': 'site-settings-status' });
  const siteForm = h('form', { class: 'panel layer', 'data-testid': 'site-settings-form' },
    h('h3', {}, 'Site defaults'),
    h('p', { class: 'subtle' }, 'Every kiosk of this controller gets these unless its group or the kiosk itself sets the key.'),
    site.element,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'site-settings-save' }, 'Save site defaults')),
    siteStatus);
  const groupList = h('div', { class: 'groups', 'data-testid': 'groups' });
  const newName = h('input', { 'data-testid': 'new-group-name', autocomplete: 'off', spellcheck: 'false', maxlength: 64, placeholder: 'e.g. lab-3' });
  const fresh = new SettingsEditor(ctx.rules, 'new-group-settings');
  const newStatus = h('div', { class: 'status', 'data-testid': 'new-group-status' });
  const newForm = h('form', { class: 'panel layer', 'data-testid': 'new-group-form' },
    h('h3', {}, 'New group'),
    h('p', { class: 'subtle' }, 'A group is made by saving settings under a new name (letters, digits, - or _). Move kiosks into it from their page, or register their MACs with it.'),
    h('label', {}, 'Name', newName),
    fresh.element,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'new-group-save' }, 'Make group')),
    newStatus);

  const cards = new Map<string, GroupCard>();
  let layers: Layers = { site: {}, groups: [] };

  const siteInherited = (): Partial<Record<string, Inherited>> =>
    Object.fromEntries(Object.entries(layers.site).map(([key, value]) => [key, { value, source: 'site' }]));

  /** Saves a layer: on a refusal its sentence goes next to the form and under the key it names. */
  const save = async <T>(editor: SettingsEditor, target: HTMLElement, call: () => Promise<T>, done: string): Promise<T | undefined> => {
    mount(target);
    try {
      const value = await call();
      mount(target, noticeBox(done));
      return value;
    } catch (error) {
      if (error instanceof AdminError && error.kind === 'session-ended') return undefined;
      if (error instanceof AdminError && error.kind === 'bad-request') editor.markProblem(error.message);
      mount(target, errorBox(error));
      return undefined;
    }
  };

  siteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void save(site, siteStatus, () => ctx.api.call('siteSettings', {}, { settings: site.collect() }), 'Saved. Kiosks take the new defaults at their next check-in.').then((next) => {
      if (!next) return;
      site.show(next.site, {}, true);
      draw(next);
    });
  });
  newForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = newName.value.trim();
    if (cards.has(name)) return mount(newStatus, errorBox(new AdminError('conflict', `A group named ${name} exists already: change its settings in its own form above.`)));
    void save(fresh, newStatus, () => ctx.api.call('groupSettings', { name }, { settings: fresh.collect() }), `Group ${name} made.`).then((made) => {
      if (!made) return;
      newName.value = '';
      fresh.show({}, siteInherited(), true);
      layers = { ...layers, groups: [...layers.groups, made] };
      draw(layers);
    });
  });

  const card = (group: Group): GroupCard => {
    const editor = new SettingsEditor(ctx.rules, `group-${group.name}-settings`);
    const cardStatus = h('div', { class: 'status', 'data-testid': 'group-status' });
    const count = h('span', { class: 'subtle', 'data-testid': 'group-kiosks' });
    const versions = h('p', { class: 'subtle versions', 'data-testid': 'group-versions' });
    const remove = h('button', {
      type: 'button', class: 'danger-outline', 'data-testid': 'group-delete',
      onclick: () => void (async () => {
        const kiosks = cards.get(group.name)?.count.textContent ?? '';
        if (!await confirmDialog(`Delete the group ${group.name} (${kiosks})? Its kiosks leave the group and take the site's defaults.`, 'Delete group')) return;
        try {
          await ctx.api.call('deleteGroup', { name: group.name });
          layers = { ...layers, groups: layers.groups.filter((g) => g.name !== group.name) };
          draw(layers);
        } catch (error) {
          if (!(error instanceof AdminError && error.kind === 'session-ended')) mount(cardStatus, errorBox(error));
        }
      })(),
    }, 'Delete group');
    const form = h('form', { class: 'panel layer', 'data-testid': 'group-form', 'data-group': group.name },
      h('div', { class: 'row' }, h('h3', {}, `Group ${group.name}`), count, h('span', { class: 'spacer' }), remove),
      versions,
      editor.element,
      h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'group-save' }, `Save ${group.name}`)),
      cardStatus);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void save(editor, cardStatus, () => ctx.api.call('groupSettings', { name: group.name }, { settings: editor.collect() }), 'Saved. Its kiosks take the new settings at their next check-in.').then((next) => {
        if (!next) return;
        editor.show(next.settings, siteInherited(), true);
        layers = { ...layers, groups: layers.groups.map((g) => (g.name === next.name ? next : g)) };
        draw(layers);
      });
    });
    return { element: form, editor, count, versions };
  };

  const draw = (next: Layers): void => {
    layers = next;
    site.show(next.site);
    const inherited = siteInherited();
    const sorted = [...next.groups].sort((a, b) => a.name.localeCompare(b.name));
    for (const [name, c] of cards) {
      if (sorted.some((g) => g.name === name)) continue;
      c.element.remove();
      cards.delete(name);
    }
    sorted.forEach((group, index) => {
      let c = cards.get(group.name);
      if (!c) {
        c = card(group);
        cards.set(group.name, c);
      }
      c.count.textContent = `${group.kiosks} kiosk${group.kiosks === 1 ? '' : 's'}`;
      c.versions.textContent = versionsLine(group, next.site);
      c.editor.show(group.settings, inherited);
      if (groupList.children[index] !== c.element) groupList.insertBefore(c.element, groupList.children[index] ?? null);
    });
    if (!sorted.length) mount(groupList, h('p', { class: 'subtle', 'data-testid': 'no-groups' }, 'No groups yet.'));
    else groupList.querySelector('[data-testid="no-groups"]')?.remove();
    fresh.show({}, inherited);
  };

  const load = async (): Promise<void> => {
    try {
      draw(await ctx.api.call('layers', {}));
      mount(status);
    } catch (error) {
      if (!(error instanceof AdminError && error.kind === 'session-ended')) mount(status, errorBox(error));
    }
  };

  const element = h('section', { class: 'view settings-view', 'data-testid': 'settings-view', hidden: true },
    h('div', { class: 'toolbar' }, h('h2', {}, 'Settings'), h('span', { class: 'subtle' }, 'Site defaults, then the group, then the kiosk\'s own: the most specific value wins. A key set in a kiosk\'s thinkiosk.conf wins over all of them.')),
    status,
    siteForm,
    h('h2', { class: 'section-title' }, 'Groups'),
    groupList,
    newForm);

  return reloadingView(element, load);
}
