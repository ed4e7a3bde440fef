/**
 * The admin PIN every netbooted kiosk gets with its preset. A netbooted client keeps nothing, so
 * without one its admin screen would have no PIN at all: anyone could point it at their own
 * "controller" and collect the next people's passwords. The PIN it gets, first that applies:
 *
 *   1. its own entry's `adminPin` in the boot server's configuration (clients: - { mac, adminPin });
 *   2. `defaults.adminPin` in that configuration (the site's PIN for every client);
 *   3. the box's own PIN: `admin_pin` in its thinkiosk.conf, or, when that has none, the PIN set on
 *      the box's admin screen (its kiosk's settings file).
 *
 * Plain PINs (4 to 12 digits) are hashed here with the kiosk's own scrypt (app/core/system/
 * admin-pin.ts) before anything is written: clients only ever see `admin_pin = scrypt$...`.
 */
import { readFileSync } from 'node:fs';
import { hashPinIfPlain, isPinHash } from '../app/core/system/admin-pin.js';
import { lastPresetText } from '../contract/preset/reading.js';
import type { BootServerConfig } from './config.js';

/** What a configuration may hold as a PIN: 4 to 12 digits, or a hash the kiosk made. */
export function isPinOrHash(value: string): boolean {
  return /^\d{4,12}$/.test(value) || isPinHash(value);
}

export interface BoxPin {
  /** Plain digits or a hash, as found. */
  value: string;
  /** Where it was found, for the log and the status. */
  source: string;
}

/**
 * `admin_pin` in a thinkiosk.conf text as the file's one reader reads it (contract/preset): the
 * last line wins, as in the kiosk; an empty value is none. Whether it is usable is asked later.
 */
export function adminPinInPreset(text: string): string | null {
  return lastPresetText(text, 'admin_pin') || null;
}

/** The box's own PIN: thinkiosk.conf's admin_pin, else the one its kiosk holds (set on its admin screen). */
export function readBoxPin(presetFile: string, kioskSettingsFile: string): BoxPin | null {
  const fromPreset = readText(presetFile);
  const inPreset = fromPreset === null ? null : adminPinInPreset(fromPreset);
  if (inPreset) return { value: inPreset, source: `admin_pin in ${presetFile}` };
  const settings = readText(kioskSettingsFile);
  if (settings === null) return null;
  try {
    const hash = (JSON.parse(settings) as { adminPinHash?: unknown }).adminPinHash;
    if (typeof hash === 'string' && isPinHash(hash)) return { value: hash, source: `the PIN set on this box's admin screen (${kioskSettingsFile})` };
  } catch {
    // A damaged settings file: as if there were no PIN there (the kiosk says so on its own screen).
  }
  return null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export interface ClientPins {
  /** The configuration with every adminPin a hash (defaults filled in from the box's PIN). */
  config: BootServerConfig;
  /** Where the PIN of clients without their own comes from, or null when they get none. */
  defaultSource: string | null;
  /** Sentences for the status: clients that get no PIN, a box PIN that is not usable. */
  problems: string[];
}

/** Hashes every PIN the clients are handed (each plain one once) and fills in the default. */
export async function hashClientPins(config: BootServerConfig, boxPin: BoxPin | null): Promise<ClientPins> {
  const problems: string[] = [];
  let defaultPin = config.defaults.adminPin ?? null;
  let defaultSource: string | null = defaultPin ? 'defaults.adminPin in the boot server configuration' : null;
  if (!defaultPin && boxPin) {
    if (isPinOrHash(boxPin.value)) {
      defaultPin = boxPin.value;
      defaultSource = boxPin.source;
    } else {
      problems.push(`the box's admin PIN (${boxPin.source}) is neither 4 to 12 digits nor a PIN hash, so it is not handed to netbooted kiosks`);
    }
  }
  const hash = async (pin: string): Promise<string> => (await hashPinIfPlain(pin)).hash;
  const defaults = { ...config.defaults, ...(defaultPin ? { adminPin: await hash(defaultPin) } : {}) };
  const clients = await Promise.all(config.clients.map(async (client) => (client.adminPin ? { ...client, adminPin: await hash(client.adminPin) } : client)));
  const without = clients.filter((client) => !client.adminPin).length;
  if (!defaultPin && (without > 0 || clients.length === 0)) {
    problems.push('netbooted kiosks get no admin PIN: set admin_pin in this box\'s thinkiosk.conf, or adminPin under defaults (or per client) in the boot server configuration');
  }
  return { config: { ...config, defaults, clients }, defaultSource, problems };
}
