/**
 * One kiosk: what it is (inventory), where its updates stand (slot, version, what the update agent
 * does, the last trial boot), how it fares (health, repairs), what it runs with (effective
 * settings, where each value comes from, whether the kiosk applied it), its own settings, its name
 * and group, and the commands an administrator sends it with their history and its last
 * screenshot. Rereads every 10 s (every 3 s while a command waits for the kiosk); a section is
 * redrawn only when its data changed, and the forms never while the admin is typing in them.
 */
import type { CommandKind, Inventory, Repair, SettingSource, Throttling } from '../../../contract/fleet.js';
import type { CommandRecord, Group, KioskDetail } from '../../../contract/fleet-admin.js';
import type { UpdateStatus } from '../../../contract/update-status.js';
import { AdminError } from './api.js';
import { drawIfChanged, h, mount } from './dom.js';
import { ago, duration, seconds, when } from './format.js';
import { SettingsEditor, type Inherited } from './settings-editor.js';
import { act, confirmDialog, errorBox, fact, noticeBox, type AdminContext, type View } from './ui.js';
import { outcomeFailed, outcomeText, phaseFailed, phaseText } from './update-words.js';

const REFRESH_MS = 10_000;
const WAITING_REFRESH_MS = 3_000;

const COMMANDS: { kind: CommandKind; label: string; confirm?: string }[] = [
  { kind: 'identify', label: 'Identify' },
  { kind: 'screenshot', label: 'Screenshot' },
  { kind: 'restart-app', label: 'Restart app' },
  { kind: 'logout', label: 'Log the person out', confirm: 'Log out the person using this kiosk? Their desktop session ends; unsaved work in it may be lost.' },
  { kind: 'reboot', label: 'Reboot', confirm: 'Reboot this kiosk? Whoever is using it is logged out.' },
];

const APPLIED_WORDS: Record<string, string> = {
  applied: '✓ applied',
  'next-boot': 'at the next boot',
  rejected: '✗ rejected by the kiosk',
  'overridden-by-boot-preset': 'overridden by the kiosk\'s thinkiosk.conf',
};

const THROTTLING_WORDS: Record<keyof Throttling, string> = {
  underVoltage: 'under-voltage now',
  frequencyCapped: 'frequency capped now',
  throttled: 'throttled now',
  softTemperatureLimit: 'soft temperature limit now',
  underVoltageSinceBoot: 'under-voltage since boot',
  throttledSinceBoot: 'throttled since boot',
};

export function kioskView(ctx: AdminContext, kioskId: string): View {
  const title = h('h2', { 'data-testid': 'kiosk-title' }, '…');
  const stateBadge = h('span', { class: 'state' });
  const status = h('div', { class: 'page-part' });
  const summary = h('dl', { class: 'facts', 'data-testid': 'kiosk-summary' });
  const inventory = h('div', { 'data-testid': 'kiosk-inventory' });
  const update = h('div', { 'data-testid': 'kiosk-update-state' });
  const health = h('div', { 'data-testid': 'kiosk-health' });
  const effective = h('div', { 'data-testid': 'kiosk-effective' });
  const commandHistory = h('div', { 'data-testid': 'command-history' });
  const commandStatus = h('div', { class: 'status', 'data-testid': 'command-status' });
  const picture = h('div', { class: 'screenshot', 'data-testid': 'screenshot' });

  const name = h('input', { 'data-testid': 'kiosk-rename', autocomplete: 'off', spellcheck: 'false', maxlength: 64, 'aria-label': 'Name' });
  const group = h('select', { 'data-testid': 'kiosk-group', 'aria-label': 'Group' });
  const manageStatus = h('div', { class: 'status', 'data-testid': 'manage-status' });
  const own = new SettingsEditor(ctx.rules, 'own-settings');
  const ownStatus = h('div', { class: 'status', 'data-testid': 'own-settings-status' });

  const secret = new Set(ctx.rules.filter((rule) => rule.secret).map((rule) => rule.key as string));
  let detail: KioskDetail | null = null;
  let groups: Group[] = [];
  let nameTouched = false;
  let groupTouched = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let alive = true;
  let shownScreenshot: string | null = null;
  let screenshotUrl: string | null = null;

  name.addEventListener('input', () => (nameTouched = true));
  group.addEventListener('change', () => (groupTouched = true));

  const rename = h('form', { class: 'row' }, name, h('button', { type: 'submit', 'data-testid': 'kiosk-rename-save' }, 'Rename'));
  rename.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(manageStatus, () => ctx.api.call('updateKiosk', { id: kioskId }, { name: name.value }), 'Renamed.').then((updated) => {
      if (!updated) return;
      nameTouched = false;
      draw(updated);
    });
  });
  const move = h('form', { class: 'row' }, group, h('button', { type: 'submit', 'data-testid': 'kiosk-group-save' }, 'Move'));
  move.addEventListener('submit', (event) => {
    event.preventDefault();
    const to = group.value || null;
    void act(manageStatus, () => ctx.api.call('updateKiosk', { id: kioskId }, { group: to }), to ? `Moved to ${to}.` : 'Taken out of its group.').then((updated) => {
      if (!updated) return;
      groupTouched = false;
      draw(updated);
    });
  });
  const forget = h('button', {
    class: 'danger', 'data-testid': 'kiosk-forget',
    onclick: () => void (async () => {
      if (!await confirmDialog(`Forget ${detail?.summary.name ?? 'this kiosk'}? It loses its place in the fleet and must enrol again (with a site token or a registered MAC) to come back.`, 'Forget')) return;
      const done = await act(manageStatus, () => ctx.api.call('forgetKiosk', { id: kioskId }).then(() => true));
      if (done) ctx.go('#/fleet');
    })(),
  }, 'Forget this kiosk');

  const ownForm = h('form', { class: 'layer', 'data-testid': 'own-settings-form' },
    h('p', { class: 'subtle' }, 'This kiosk\'s own values, on top of the site\'s and its group\'s. Leave a key empty to take it from them.'),
    own.element,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'own-settings-save' }, 'Save this kiosk\'s settings')),
    ownStatus);
  ownForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      mount(ownStatus);
      try {
        const updated = await ctx.api.call('updateKiosk', { id: kioskId }, { settings: own.collect() });
        mount(ownStatus, noticeBox('Saved. The kiosk takes the new settings at its next check-in.'));
        draw(updated, true);
      } catch (error) {
        if (error instanceof AdminError && error.kind === 'session-ended') return;
        if (error instanceof AdminError && error.kind === 'bad-request') own.markProblem(error.message);
        mount(ownStatus, errorBox(error));
      }
    })();
  });

  const commandButtons = h('div', { class: 'row wrap' }, COMMANDS.map((command) => h('button', {
    'data-testid': `command-${command.kind}`,
    class: command.confirm ? 'danger-outline' : undefined,
    onclick: () => void (async () => {
      if (command.confirm && !await confirmDialog(command.confirm, command.label)) return;
      const record = await act(commandStatus, () => ctx.api.call('command', { id: kioskId }, { kind: command.kind }),
        (r) => `${command.label}: sent; the kiosk runs it at its next check-in.${r.kind === 'screenshot' ? ' The picture shows below when it arrives.' : ''}`);
      if (record) await refresh();
    })(),
  }, command.label)));

  const element = h('section', { class: 'view kiosk-view', 'data-testid': 'kiosk-view' },
    h('div', { class: 'toolbar' }, h('a', { href: '#/fleet', 'data-testid': 'back-to-fleet' }, '← All kiosks'), title, stateBadge),
    status,
    h('div', { class: 'columns' },
      h('div', { class: 'column' },
        panel('Overview', summary),
        panel('Update', update),
        panel('Commands', commandButtons, commandStatus, commandHistory),
        panel('Screenshot', picture),
        panel('Name and group', rename, move, h('div', { class: 'row' }, forget), manageStatus)),
      h('div', { class: 'column' },
        panel('Inventory', inventory),
        panel('Health and repairs', health),
        panel('Settings in effect', effective))),
    panel('This kiosk\'s own settings', ownForm));

  const draw = (next: KioskDetail, saved = false): void => {
    detail = next;
    const k = next.summary;
    title.textContent = k.name;
    stateBadge.className = `state state-${k.state}`;
    stateBadge.textContent = k.state;
    stateBadge.dataset.testid = 'kiosk-detail-state';
    if (!nameTouched) name.value = k.name;
    drawGroupChoice(k.group);
    drawIfChanged(summary, { k, now: ago(k.lastCheckIn) }, () => mount(summary, overview(next)));
    drawIfChanged(inventory, next.inventory, (inv) => mount(inventory, inventoryPart(inv)));
    drawIfChanged(update, { u: next.update, now: next.update?.lastTrial ? ago(next.update.lastTrial.at) : null }, () => mount(update, updatePart(next.update)));
    drawIfChanged(health, { health: next.health, repairs: next.repairs }, () => mount(health, healthPart(next)));
    drawIfChanged(effective, { e: next.effective, a: next.applied }, () => mount(effective, effectivePart(next, secret)));
    drawIfChanged(commandHistory, next.commands, (commands) => mount(commandHistory, commandsPart(commands)));
    own.show(next.ownSettings, inheritedFor(next), saved);
    void drawScreenshot(next.screenshotAt);
  };

  const drawGroupChoice = (current: string | null): void => {
    if (groupTouched) return;
    const names = [...new Set([...groups.map((g) => g.name), ...(current ? [current] : [])])].sort();
    drawIfChanged(group, { names, current }, () => mount(group,
      h('option', { value: '', selected: current === null }, '(no group)'),
      names.map((n) => h('option', { value: n, selected: n === current }, n))));
  };

  const drawScreenshot = async (at: string | null): Promise<void> => {
    if (at === shownScreenshot) return;
    shownScreenshot = at;
    if (!at) return mount(picture, h('p', { class: 'subtle' }, 'No screenshot yet. "Screenshot" asks the kiosk for one.'));
    try {
      const blob = await ctx.api.screenshot(kioskId);
      if (!alive || shownScreenshot !== at) return;
      if (screenshotUrl) URL.revokeObjectURL(screenshotUrl);
      screenshotUrl = blob ? URL.createObjectURL(blob) : null;
      mount(picture, screenshotUrl
        ? [h('img', { src: screenshotUrl, alt: `The screen of ${detail?.summary.name ?? 'the kiosk'}`, 'data-testid': 'screenshot-image' }), h('p', { class: 'subtle', title: when(at) }, `Taken ${ago(at)} (${when(at)}).`)]
        : h('p', { class: 'subtle' }, 'The controller no longer has this screenshot.'));
    } catch (error) {
      shownScreenshot = null;
      if (!(error instanceof AdminError && error.kind === 'session-ended')) mount(picture, errorBox(error));
    }
  };

  const refresh = async (): Promise<void> => {
    clearTimeout(timer);
    try {
      const [next, layers] = await Promise.all([ctx.api.call('kiosk', { id: kioskId }), ctx.api.call('layers', {})]);
      if (!alive) return;
      groups = layers.groups;
      mount(status);
      draw(next);
    } catch (error) {
      if (!alive || (error instanceof AdminError && error.kind === 'session-ended')) return;
      mount(status, errorBox(error));
      if (error instanceof AdminError && error.kind === 'not-found') return;
    }
    if (!alive) return;
    const waiting = detail?.commands.some((c) => c.state === 'pending') ?? false;
    timer = setTimeout(() => void refresh(), waiting ? WAITING_REFRESH_MS : REFRESH_MS);
  };

  return {
    element,
    show() {
      element.hidden = false;
      void refresh();
    },
    hide() {
      element.hidden = true;
      clearTimeout(timer);
    },
    dispose() {
      alive = false;
      clearTimeout(timer);
      if (screenshotUrl) URL.revokeObjectURL(screenshotUrl);
    },
  };
}

function panel(heading: string, ...content: Node[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h3', {}, heading), ...content);
}

/** Where each key's value would come from without the kiosk's own layer: the placeholder of its input. */
function inheritedFor(detail: KioskDetail): Partial<Record<string, Inherited>> {
  const inherited: Partial<Record<string, Inherited>> = {};
  for (const [key, source] of Object.entries(detail.effective.sources)) {
    const value = detail.effective.values[key as keyof typeof detail.effective.values];
    if (source !== 'kiosk' && value !== undefined) inherited[key] = { value, source };
  }
  return inherited;
}

function overview(detail: KioskDetail): Node[] {
  const k = detail.summary;
  const person = k.session;
  return [
    ...fact('State', h('span', { class: `state state-${k.state}` }, k.state)),
    ...fact('Last check-in', h('span', { title: when(k.lastCheckIn) }, ago(k.lastCheckIn))),
    ...fact('Group', k.group),
    ...fact('Kiosk app', k.kioskVersion),
    ...fact('Image', k.imageVersion),
    ...fact('Host name', k.hostname),
    ...fact('Addresses', k.addresses.join(', ')),
    ...fact('Person', person ? `${person.user}${person.desktop ? ` on ${person.desktop}` : ' (choosing a desktop)'}${person.protocol ? ` over ${person.protocol.toUpperCase()}` : ''}, since ${ago(person.since)}` : 'nobody (login screen)'),
    ...fact('Temperature', k.temperatureC === null ? null : `${k.temperatureC.toFixed(1)} °C`, k.throttled ? h('span', { class: 'warning' }, ' ⚠ throttled or under-voltage') : null),
    ...fact('Last crash', k.lastCrash ? `${ago(k.lastCrash.at)}: ${k.lastCrash.reason}` : 'none'),
    ...fact('Settings', k.settingsApplied ? h('span', { class: 'ok' }, '✓ applied') : h('span', { class: 'warning' }, 'not yet applied')),
  ];
}

const SLOT_NAMES = { a: 'A (partition 2)', b: 'B (partition 3)' } as const;

function updatePart(status: UpdateStatus | null): Node[] {
  if (!status) return [h('p', { class: 'subtle' }, 'This kiosk reports no update state: its image has no A/B updates, or it has not checked in since it got them.')];
  const busy = status.phase === 'downloading' || status.phase === 'writing' || status.phase === 'verifying';
  const pending = status.bootedSlot !== null && status.committedSlot !== null && status.bootedSlot !== status.committedSlot;
  const trial = status.lastTrial;
  return [
    h('dl', { class: 'facts' },
      ...fact('Running', h('span', { 'data-testid': 'update-running' }, status.runningVersion)),
      ...fact('Slot', h('span', { 'data-testid': 'update-slot' },
        status.bootedSlot ? `booted from ${SLOT_NAMES[status.bootedSlot]}` : 'not an A/B image',
        status.committedSlot ? `; ${pending ? 'on trial — the committed slot is' : 'committed:'} ${SLOT_NAMES[status.committedSlot]}` : '')),
      ...fact('Now', h('span', { class: phaseFailed(status.phase) ? 'warning' : undefined, 'data-testid': 'update-now' }, phaseText(status))),
      ...(busy && status.percent !== null ? fact('Progress', h('progress', { max: 100, value: status.percent, 'data-testid': 'update-progress' }), ` ${Math.floor(status.percent)} %`) : []),
      ...(status.targetVersion ? fact('Installing', status.targetVersion) : []),
      ...(status.source ? fact('From', h('span', { class: 'mono' }, status.source)) : []),
      ...(status.message ? fact('Message', h('span', { class: phaseFailed(status.phase) ? 'warning' : undefined, 'data-testid': 'update-message' }, status.message)) : []),
      ...fact('Reported', h('span', { title: when(status.updatedAt) }, ago(status.updatedAt)))),
    trial
      ? h('div', { class: outcomeFailed(trial.outcome) ? 'error' : 'notice', 'data-testid': 'update-last-trial', 'data-outcome': trial.outcome },
        h('strong', {}, `Last trial: ${trial.version} on slot ${trial.slot.toUpperCase()} ${outcomeText(trial.outcome)}`),
        h('span', { title: when(trial.at) }, ` — ${when(trial.at)} (${ago(trial.at)})`),
        h('div', {}, trial.detail))
      : h('p', { class: 'subtle', 'data-testid': 'update-last-trial' }, 'No trial boot of a new version yet.'),
  ];
}

function inventoryPart(inventory: Inventory | null): Node[] {
  if (!inventory) return [h('p', { class: 'subtle' }, 'The kiosk has not checked in yet.')];
  const throttling = inventory.throttling;
  const flags = throttling ? (Object.keys(THROTTLING_WORDS) as (keyof Throttling)[]).filter((flag) => throttling[flag]).map((flag) => THROTTLING_WORDS[flag]) : [];
  return [h('dl', { class: 'facts' },
    ...fact('Board', inventory.board),
    ...fact('Host name', inventory.hostname),
    ...fact('MACs', h('span', { class: 'mono' }, inventory.macs.join(', '))),
    ...fact('Addresses', inventory.addresses.length ? h('ul', { class: 'plain' }, inventory.addresses.map((a) => h('li', { class: 'mono' }, `${a.iface}: ${a.address}`))) : null),
    ...fact('Displays', inventory.displays.length ? h('ul', { class: 'plain' }, inventory.displays.map((d) => h('li', {}, `${d.name}: ${d.width}×${d.height}`))) : 'none found'),
    ...fact('USB devices', inventory.usb.length ? h('ul', { class: 'plain' }, inventory.usb.map((u) => h('li', {}, h('span', { class: 'mono' }, `${u.vendorId}:${u.productId}`), ` ${u.name}`))) : 'none'),
    ...fact('Uptime', duration(inventory.uptimeSeconds)),
    ...fact('Boot time', `${seconds(inventory.bootSeconds)}${inventory.bootSeconds === null ? '' : ' (kernel to kiosk ready)'}`),
    ...fact('Image', inventory.imageVersion, inventory.slot ? ` (slot ${inventory.slot})` : null),
    ...fact('Temperature', inventory.temperatureC === null ? null : `${inventory.temperatureC.toFixed(1)} °C`),
    ...fact('Throttling', throttling === null ? 'not a Raspberry Pi' : flags.length ? h('span', { class: 'warning' }, flags.join(', ')) : 'none'),
  )];
}

function healthPart(detail: KioskDetail): Node[] {
  const healthNow = detail.health;
  const parts: Node[] = [];
  parts.push(healthNow
    ? h('dl', { class: 'facts' },
      ...fact('Since the last check-in', `${healthNow.restarts} restart${healthNow.restarts === 1 ? '' : 's'}, ${healthNow.crashes} crash${healthNow.crashes === 1 ? '' : 'es'}`),
      ...fact('Last crash', healthNow.lastCrash ? `${when(healthNow.lastCrash.at)}: ${healthNow.lastCrash.reason}` : 'none'))
    : h('p', { class: 'subtle' }, 'No health report yet.'));
  parts.push(detail.repairs.length ? repairsTable(detail.repairs) : h('p', { class: 'subtle' }, 'No faults found.'));
  return parts;
}

function repairsTable(repairs: Repair[]): HTMLElement {
  const newest = [...repairs].sort((a, b) => b.at.localeCompare(a.at));
  return h('table', { class: 'compact', 'data-testid': 'repairs' },
    h('thead', {}, h('tr', {}, ['When', 'Fault', 'What was found', 'What was done', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, newest.map((r) => h('tr', {},
      h('td', { title: when(r.at) }, ago(r.at)),
      h('td', { class: 'mono' }, r.fault),
      h('td', {}, r.detail),
      h('td', {}, r.action ?? h('span', { class: 'subtle' }, 'nothing the kiosk can do itself')),
      h('td', {}, r.repaired ? h('span', { class: 'ok' }, '✓ repaired') : h('span', { class: 'warning' }, 'still there'))))));
}

function sourceLabel(source: SettingSource | undefined): string {
  return source === 'kiosk' ? 'kiosk (own)' : source ?? '—';
}

function effectivePart(detail: KioskDetail, secret: ReadonlySet<string>): Node[] {
  const { effective, applied } = detail;
  const current = applied !== null && applied.revision === effective.revision;
  const keys = Object.keys(effective.values).sort();
  const parts: Node[] = [];
  parts.push(h('p', { class: current ? 'ok' : 'warning', 'data-testid': 'applied-state' },
    applied === null ? 'The kiosk has not applied any fleet settings yet.'
      : current ? `The kiosk runs these settings (applied ${ago(applied.at)}).`
        : `The kiosk still runs an older revision (applied ${ago(applied.at)}); it takes these at its next check-in.`));
  if (applied?.problems.length) parts.push(h('div', { class: 'error', 'data-testid': 'applied-problems' }, h('ul', { class: 'plain' }, applied.problems.map((p) => h('li', {}, p)))));
  if (!keys.length) {
    parts.push(h('p', { class: 'subtle' }, 'No fleet settings: the kiosk keeps its own (its thinkiosk.conf and admin screen).'));
    return parts;
  }
  parts.push(h('table', { class: 'compact', 'data-testid': 'effective-settings' },
    h('thead', {}, h('tr', {}, ['Key', 'Value', 'From', 'On the kiosk'].map((t) => h('th', {}, t)))),
    h('tbody', {}, keys.map((key) => {
      const value = effective.values[key as keyof typeof effective.values] ?? '';
      const state = current ? applied.keys[key] : undefined;
      return h('tr', { 'data-key': key, 'data-testid': 'effective-setting' },
        h('td', { class: 'mono' }, key),
        h('td', { class: 'mono value' }, secret.has(key) ? '•••••• (set)' : value),
        h('td', { 'data-testid': 'setting-source' }, sourceLabel(effective.sources[key])),
        h('td', { class: state === 'rejected' ? 'warning' : undefined }, state ? APPLIED_WORDS[state] ?? state : current ? '—' : 'waiting'));
    }))));
  return parts;
}

function commandsPart(commands: CommandRecord[]): Node {
  if (!commands.length) return h('p', { class: 'subtle' }, 'No commands sent yet.');
  const newest = [...commands].sort((a, b) => b.issuedAt.localeCompare(a.issuedAt));
  return h('table', { class: 'compact' },
    h('thead', {}, h('tr', {}, ['Command', 'Sent', 'By', 'State', 'Detail'].map((t) => h('th', {}, t)))),
    h('tbody', {}, newest.map((c) => h('tr', { 'data-testid': 'command', 'data-kind': c.kind, 'data-state': c.state },
      h('td', {}, COMMANDS.find((known) => known.kind === c.kind)?.label ?? c.kind),
      h('td', { title: when(c.issuedAt) }, ago(c.issuedAt)),
      h('td', {}, c.issuedBy),
      h('td', {}, h('span', { class: `command-state command-${c.state}` }, c.state)),
      h('td', {}, c.detail ?? '', c.answeredAt ? h('span', { class: 'subtle' }, ` (${ago(c.answeredAt)})`) : null)))));
}
