/**
 * One layer's settings (the site's defaults, a group, a kiosk's own) as a form: each fleet key with
 * its input and its rule sentence. An emptied input takes the key out of this layer, leaving it to
 * the layers below (a group's to the site, a kiosk's to its group and the site). Secret keys (admin
 * PIN, Wi-Fi password) are never shown back: an empty input keeps what is set, "remove" takes it
 * out, typing replaces it (the controller hashes a typed PIN).
 *
 * What the admin typed stays until it is saved: a refresh of the page redraws only an untouched
 * form, and a refused save marks the key the controller's sentence names and keeps the text.
 */
import type { SettingSource, SettingValues } from '../../../contract/fleet.js';
import type { SettingRule } from '../setting-rules.js';
import { h, mount } from './dom.js';

/** A value the layers below would give the key, shown as the input's placeholder. */
export interface Inherited {
  value: string;
  source: SettingSource;
}

/** Keys whose values are long (a key, an address); by name, so keys a controller does not know yet cost nothing. */
const WIDE_KEYS: ReadonlySet<string> = new Set(['ssh_key', 'controller', 'update_url']);

interface Row {
  rule: SettingRule;
  input: HTMLInputElement;
  remove: HTMLInputElement | null;
  problem: HTMLElement;
  element: HTMLElement;
}

export class SettingsEditor {
  readonly element: HTMLElement;
  private readonly rows: Row[];
  private values: SettingValues = {};
  private touched = false;

  constructor(private readonly rules: SettingRule[], private readonly testId: string) {
    this.rows = rules.map((rule) => this.row(rule));
    this.element = h('div', { class: 'settings-editor', 'data-testid': testId }, this.rows.map((row) => row.element));
  }

  /** Whether the admin changed anything since the form was last drawn from saved values. */
  get dirty(): boolean {
    return this.touched;
  }

  /** Draws saved values; `force` also over what the admin typed (after their own save). */
  show(values: SettingValues, inherited: Partial<Record<string, Inherited>> = {}, force = false): void {
    if (this.touched && !force) return;
    this.values = values;
    this.touched = false;
    for (const row of this.rows) {
      const saved = values[row.rule.key];
      const below = inherited[row.rule.key];
      row.problem.replaceChildren();
      row.element.classList.remove('invalid');
      row.input.removeAttribute('aria-invalid');
      if (row.rule.secret) {
        row.input.value = '';
        row.input.placeholder = saved !== undefined ? 'set here — type to replace' : below ? `set by ${below.source}` : 'not set';
        if (row.remove) {
          row.remove.checked = false;
          row.remove.disabled = saved === undefined;
        }
      } else {
        row.input.value = saved ?? '';
        row.input.placeholder = below ? `${below.value} (${below.source})` : 'not set';
      }
      row.element.dataset.set = String(saved !== undefined);
    }
  }

  /**
   * The change to send: each key whose input differs from the saved value, "" for a key taken out
   * of this layer (the controller keeps the keys a change does not name, and checks only the ones
   * it does, so a value saved under older rules does not block the others).
   */
  collect(): Record<string, string> {
    const change: Record<string, string> = {};
    for (const row of this.rows) {
      const key = row.rule.key;
      const saved = this.values[key];
      if (row.rule.secret) {
        if (row.remove?.checked && saved !== undefined) change[key] = '';
        else if (row.input.value !== '') change[key] = row.input.value;
      } else if (row.input.value !== (saved ?? '')) {
        change[key] = row.input.value;
      }
    }
    return change;
  }

  /**
   * The controller refused the change: under each key its sentence names goes that part of it
   * ("These settings cannot be stored: admin_pin must be 4 to 12 digits; ..." — presetProblem's
   * sentences start with the key), and every input keeps what was typed.
   */
  markProblem(message: string): boolean {
    const parts = message.split(/;\s+/);
    let first: HTMLInputElement | null = null;
    for (const row of this.rows) {
      const key = new RegExp(`(?:^|:\\s+)(${row.rule.key}(?![A-Za-z_]).*)$`);
      const said = parts.map((part) => key.exec(part)?.[1]).find((text) => text !== undefined);
      row.element.classList.toggle('invalid', said !== undefined);
      if (said !== undefined) {
        row.input.setAttribute('aria-invalid', 'true');
        mount(row.problem, said.replace(/\.$/, ''));
        first ??= row.input;
      } else {
        row.input.removeAttribute('aria-invalid');
        row.problem.replaceChildren();
      }
    }
    first?.focus();
    return first !== null;
  }

  private row(rule: SettingRule): Row {
    const id = `${this.testId}-${rule.key}`;
    const input = h('input', {
      id, name: rule.key, 'data-testid': `setting-${rule.key}`, autocomplete: 'off', spellcheck: 'false',
      type: rule.secret ? 'password' : 'text',
      inputmode: rule.key === 'admin_pin' ? 'numeric' : undefined,
      class: WIDE_KEYS.has(rule.key) ? 'wide' : undefined,
    });
    input.addEventListener('input', () => (this.touched = true));
    const remove = rule.secret ? h('input', { type: 'checkbox', 'data-testid': `remove-${rule.key}` }) : null;
    remove?.addEventListener('change', () => (this.touched = true));
    const problem = h('div', { class: 'problem', role: 'alert', 'data-testid': `problem-${rule.key}` });
    const element = h('div', { class: 'setting', 'data-key': rule.key },
      h('label', { for: id, class: 'mono' }, rule.key),
      h('div', { class: 'setting-input' }, input,
        remove ? h('label', { class: 'remove' }, remove, ' remove') : null),
      h('div', { class: 'rule' }, rule.rule, rule.appliesAt === 'next-boot' ? h('span', { class: 'subtle' }, ' — applied at the next boot') : null),
      problem);
    return { rule, input, remove, problem, element };
  }
}
