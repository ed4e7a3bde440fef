/**
 * The fleet's settings layers: the site's defaults, a group's, a kiosk's own — merged in that order
 * into what a kiosk should run with, each value with where it came from. And how an administrator's
 * change becomes a layer: typed PIN digits are hashed, "" removes a key, every value is checked by
 * its preset rule (the sentence of contract/preset/keys.ts is what the admin reads).
 */
import { createHash } from 'node:crypto';
import { SettingValues, type FleetSettings, type SettingSource } from '../../contract/fleet.js';
import { presetProblem } from '../../contract/preset/keys.js';
import { makeScryptHash, parseScryptHash } from '../../contract/scrypt-hash.js';
import { ApiError } from '../api-error.js';

export interface SettingLayers {
  site: SettingValues;
  group: { name: string; values: SettingValues } | null;
  kiosk: SettingValues;
}

/** The layers merged: a kiosk's own value wins over its group's, a group's over the site's. */
export function effectiveSettings({ site, group, kiosk }: SettingLayers): FleetSettings {
  const values: Record<string, string> = {};
  const sources: Record<string, SettingSource> = {};
  const layers: Array<[SettingSource, SettingValues]> = [['site', site], ...(group ? [[`group:${group.name}`, group.values] as [SettingSource, SettingValues]] : []), ['kiosk', kiosk]];
  for (const [source, layer] of layers) {
    for (const [name, text] of Object.entries(layer)) {
      if (text === undefined) continue;
      values[name] = text;
      sources[name] = source;
    }
  }
  return { revision: settingsRevision(values), values, sources };
}

/** A short hash of the values (not of their sources): it changes exactly when what a kiosk runs would change. */
export function settingsRevision(values: SettingValues): string {
  const canonical = JSON.stringify(Object.entries(values).filter(([, text]) => text !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** A layer as stored (JSON text, written only by this module's callers after checking). */
export function readLayer(json: string): SettingValues {
  return JSON.parse(json) as SettingValues;
}

export interface LayerChange {
  values: SettingValues;
  /** Keys given a value, and keys removed: for the audit log, which never holds the values. */
  set: string[];
  removed: string[];
}

const PLAIN_PIN = /^\d{4,12}$/;
/** As the kiosk allows (app/core/system/admin-pin.ts): a pasted hash may not make each PIN check take minutes. */
const MAX_PIN_HASH_MEMORY = 256 * 1024 * 1024;

/**
 * `update` applied to `current`: "" removes a key from this layer (so the layer below shows
 * through), typed admin_pin digits are stored as their scrypt hash. Only the keys being set are
 * checked, so a value stored under older rules does not block every other change. Throws a
 * bad-request ApiError naming each wrong key with its rule.
 */
export async function changeLayer(current: SettingValues, update: Record<string, string>): Promise<LayerChange> {
  const values: Record<string, string> = { ...current };
  const given: Record<string, string> = {};
  const removed: string[] = [];
  const problems: string[] = [];
  for (const [name, text] of Object.entries(update)) {
    if (text === '') {
      if (name in values) removed.push(name);
      delete values[name];
    } else if (name === 'admin_pin') {
      const pin = text.trim();
      if (PLAIN_PIN.test(pin)) {
        given[name] = await makeScryptHash(pin);
      } else if (pin.startsWith('scrypt$')) {
        const parsed = parseScryptHash(pin, { maxMemoryBytes: MAX_PIN_HASH_MEMORY });
        if (typeof parsed === 'string') problems.push(`admin_pin ${parsed}`);
        else given[name] = pin;
      } else {
        problems.push(presetProblem('admin_pin', text));
      }
    } else {
      given[name] = text;
    }
  }
  const checked = SettingValues.safeParse(given);
  if (!checked.success) problems.push(...checked.error.issues.map((issue) => issue.message));
  if (problems.length) {
    throw new ApiError('bad-request', `These settings cannot be stored: ${problems.join('; ')}.`, `settings refused: ${problems.join('; ')}`);
  }
  Object.assign(values, given);
  return { values, set: Object.keys(given), removed };
}
