/**
 * What the kiosk does with the settings its fleet sends (contract/fleet.ts FleetSettings: preset
 * keys as `key = value` text), key by key, and what it reports back (AppliedSettings):
 *
 * - the kiosk's own keys apply at once: controller (only once the new address answers as a
 *   controller: a fleet must not strand a kiosk at an address that does not), language, admin_pin
 *   (its hash), idle_logout_minutes, auto_connect, usb_redirection; boot_server through the kiosk's
 *   own boot server switch. Reported `applied`;
 * - the image's keys (host name, time zone, keyboard, Wi-Fi) are the image's boot step's: written to
 *   fleet-image-preset.conf beside the settings, which apply-preset reads at the next boot after
 *   thinkiosk.conf. Reported `next-boot` until the kiosk runs on a boot that read them, then
 *   `applied` (or `rejected`, with apply-preset's sentence, when that boot found a problem);
 * - the update keys (update_version, update_url, update_allow_downgrade, update_trial_minutes) go
 *   into the same file, for root's update service, which reads it whenever it acts: `applied`;
 * - ssh_key is `rejected`: the file is the unprivileged kiosk user's, and must not give root's SSH.
 *
 * Precedence: the fleet wins, for every key it sets, over the boot partition's thinkiosk.conf and
 * over what was set on the admin screen — one rule, the same in the kiosk and in apply-preset (which
 * sees the two files but not their history), so the admin page always shows what a kiosk runs. A
 * key the fleet stops setting goes back to the boot partition's value where it has one.
 *
 * A value is checked again here by its preset rule (as apply-preset will read it: byte for byte),
 * and a wrong one is refused with the rule's sentence; nothing else is held up by it.
 */
import type { Identity } from '../../../contract/api.js';
import type { AppliedSettings, FleetSettingKey, FleetSettings } from '../../../contract/fleet.js';
import { FLEET_IMAGE_KEYS, FLEET_UPDATE_KEYS, type FleetImageKey } from '../../../contract/preset/image-settings.js';
import { checkPresetValue, presetProblem, type PresetSystem } from '../../../contract/preset/keys.js';
import { normaliseControllerUrl } from '../controller-client.js';
import type { KioskPreset } from '../preset.js';
import type { Settings, StoredSettings } from '../settings.js';
import { FLEET_IMAGE_PRESET_NAME } from './fleet-files.js';

export type KeyOutcome = AppliedSettings['keys'][string];

export interface SettingsTarget {
  settings: Settings;
  /** The boot partition's kiosk keys, for keys the fleet stops setting. */
  bootPreset: KioskPreset;
  /** The desktop opened after login (not kept in settings.json: it comes from a preset at every start). */
  setAutoConnect(value: string | null): void;
  /** The kiosk's boot server switch; null where there is none. */
  setBootServer: ((enabled: boolean) => Promise<void>) | null;
  /** Asks an address whether it is a controller (GET identity); throws with a sentence when not. */
  probeController(url: string): Promise<Identity>;
  /** Time zones and keyboard layouts of the running image, for the image's keys. */
  system: PresetSystem;
  /** The image's keys file as it is now, and writing it (null: remove). */
  readImagePreset(): string | null;
  writeImagePreset(text: string | null): void;
  /**
   * Whether the running boot read the image's keys file as it is now (it was written during an
   * earlier boot), and apply-preset's sentences about that file on this boot.
   */
  imagePresetBoot(): { readThisBoot: boolean; problems: string[] };
  /** A controller address the kiosk left because it did not work, not to be tried again yet. */
  avoidController(url: string): string | null;
}

export interface ApplyResult {
  applied: AppliedSettings;
  /** The controller address changed (the agent checks in there from now on). */
  controllerChanged: boolean;
}

/** Keys the kiosk applies itself, at once. */
const KIOSK_KEYS = ['controller', 'language', 'admin_pin', 'idle_logout_minutes', 'auto_connect', 'usb_redirection', 'boot_server'] as const satisfies readonly FleetSettingKey[];

function isImageKey(key: string): key is FleetImageKey {
  return (FLEET_IMAGE_KEYS as readonly string[]).includes(key);
}

/** The text as apply-preset reads it: the file's bytes, one latin1 character a byte. */
function asBootReads(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** The image's keys the fleet sets, as lines apply-preset reads (values quoted: spaces inside kept). */
export function imagePresetText(values: Partial<Record<FleetImageKey, string>>, revision: string): string | null {
  const keys = FLEET_IMAGE_KEYS.filter((key) => values[key] !== undefined);
  if (!keys.length) return null;
  return [
    `# Written by the kiosk from its fleet's settings (revision ${revision}); read by apply-preset at boot,`,
    '# after thinkiosk.conf: these keys win. Changed by the fleet, not by hand.',
    ...keys.map((key) => `${key} = "${values[key]}"`),
    '',
  ].join('\n');
}

/** Where each key of the text is (1-based line numbers), to read apply-preset's sentences back. */
function imagePresetLines(text: string): Map<number, FleetImageKey> {
  const lines = new Map<number, FleetImageKey>();
  text.split('\n').forEach((line, index) => {
    const key = /^([a-z_]+) = /.exec(line)?.[1];
    if (key && isImageKey(key)) lines.set(index + 1, key);
  });
  return lines;
}

export async function applyFleetSettings(fleet: FleetSettings, previous: FleetSettings | null, target: SettingsTarget, now: Date = new Date()): Promise<ApplyResult> {
  const keys: Record<string, KeyOutcome> = {};
  const problems: string[] = [];
  const refuse = (key: string, problem: string): void => {
    keys[key] = 'rejected';
    problems.push(problem);
  };
  const values = fleet.values as Partial<Record<FleetSettingKey, string>>;
  const patch: Partial<StoredSettings> = {};
  let controllerChanged = false;

  for (const key of KIOSK_KEYS) {
    const text = values[key];
    if (text === undefined) continue;
    if (/[\r\n\0]/.test(text)) {
      refuse(key, `${key} must be one line (a value of thinkiosk.conf cannot hold a line break)`);
      continue;
    }
    const value = checkPresetValue(key, text);
    if (value === undefined) {
      refuse(key, presetProblem(key, text));
      continue;
    }
    switch (key) {
      case 'controller': {
        const outcome = await moveController(value as string, target, patch);
        if (outcome.problem) refuse(key, outcome.problem);
        else keys[key] = 'applied';
        controllerChanged = outcome.changed;
        break;
      }
      case 'language': patch.language = value as StoredSettings['language']; keys[key] = 'applied'; break;
      case 'admin_pin': {
        const pin = value as { kind: 'plain' | 'hash'; text: string };
        // The contract carries hashes only; a plain PIN here would be stored as if it were one.
        if (pin.kind !== 'hash') refuse(key, 'admin_pin must be stored as its hash');
        else {
          patch.adminPinHash = pin.text;
          keys[key] = 'applied';
        }
        break;
      }
      case 'idle_logout_minutes': patch.idleLogoutSeconds = (value as number) * 60; keys[key] = 'applied'; break;
      case 'usb_redirection': patch.nativeSpiceForUsb = value as boolean; keys[key] = 'applied'; break;
      case 'auto_connect': target.setAutoConnect(value as string); keys[key] = 'applied'; break;
      case 'boot_server': {
        if (!target.setBootServer) {
          refuse(key, 'boot_server cannot be set on this kiosk (it has no boot server switch)');
          break;
        }
        try {
          await target.setBootServer(value as boolean);
          keys[key] = 'applied';
        } catch (error) {
          refuse(key, `boot_server: ${error instanceof Error ? error.message : String(error)}`);
        }
        break;
      }
    }
  }

  if (values.ssh_key !== undefined) {
    refuse('ssh_key', 'ssh_key is not taken from the fleet: the kiosk runs as an unprivileged user and must not give root\'s SSH to anyone; put ssh_key in thinkiosk.conf on the boot partition');
  }

  // Keys the fleet set before and no longer does: back to the boot partition's value, where it has one.
  const dropped = new Set(Object.keys(previous?.values ?? {}).filter((key) => values[key as FleetSettingKey] === undefined));
  const boot = target.bootPreset;
  if (dropped.has('language') && boot.language) patch.language = boot.language;
  if (dropped.has('admin_pin') && boot.adminPinHash) patch.adminPinHash = boot.adminPinHash;
  if (dropped.has('idle_logout_minutes') && boot.idleLogoutSeconds !== undefined) patch.idleLogoutSeconds = boot.idleLogoutSeconds;
  if (dropped.has('usb_redirection') && boot.usbRedirection !== undefined) patch.nativeSpiceForUsb = boot.usbRedirection;
  if (dropped.has('auto_connect')) target.setAutoConnect(boot.autoConnect ?? null);
  if (Object.keys(patch).length) target.settings.update(patch);

  applyImageKeys(values, fleet.revision, target, keys, refuse);
  return { applied: { revision: fleet.revision, at: now.toISOString(), keys, problems: problems.slice(0, 32).map((p) => p.slice(0, 200)) }, controllerChanged };
}

/** A new controller address is taken only once it answers as a controller. */
async function moveController(address: string, target: SettingsTarget, patch: Partial<StoredSettings>): Promise<{ changed: boolean; problem?: string }> {
  let wanted: string;
  try {
    wanted = normaliseControllerUrl(address).toString();
  } catch (error) {
    return { changed: false, problem: `controller: ${error instanceof Error ? error.message : String(error)}` };
  }
  const current = target.settings.read().controllerUrl;
  if (current && normaliseControllerUrl(current).toString() === wanted) return { changed: false };
  const avoided = target.avoidController(wanted);
  if (avoided) return { changed: false, problem: avoided };
  try {
    const identity = await target.probeController(wanted);
    patch.controllerUrl = wanted;
    patch.controllerName = identity.name;
    patch.controllerBackend = identity.backend;
    return { changed: true };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { changed: false, problem: `controller ${wanted} was not taken: ${why} The kiosk stays with ${current ?? 'no controller'}.` };
  }
}

function applyImageKeys(values: Partial<Record<FleetSettingKey, string>>, revision: string, target: SettingsTarget, keys: Record<string, KeyOutcome>, refuse: (key: string, problem: string) => void): void {
  const good: Partial<Record<FleetImageKey, string>> = {};
  for (const key of FLEET_IMAGE_KEYS) {
    const text = values[key];
    if (text === undefined) continue;
    if (/[\r\n\0]/.test(text)) {
      refuse(key, `${key} must be one line (a value of thinkiosk.conf cannot hold a line break)`);
      continue;
    }
    if (checkPresetValue(key, asBootReads(text), target.system) === undefined) {
      refuse(key, presetProblem(key, text));
      continue;
    }
    good[key] = text;
  }
  // A keyboard variant goes with its layout (apply-preset checks them together).
  if (good.keyboard_variant !== undefined && good.keyboard === undefined) {
    delete good.keyboard_variant;
    refuse('keyboard_variant', 'keyboard_variant needs a keyboard from the fleet too');
  }
  const text = imagePresetText(good, revision);
  // Unchanged since a boot that read it: applied by that boot (or refused, in its words).
  const sameAsWritten = stripComments(target.readImagePreset()) === stripComments(text);
  if (!sameAsWritten) target.writeImagePreset(text);
  const boot = sameAsWritten ? target.imagePresetBoot() : { readThisBoot: false, problems: [] };
  const lines = text ? imagePresetLines(text) : new Map<number, FleetImageKey>();
  const refusedAtBoot = new Map<FleetImageKey, string>();
  for (const sentence of boot.problems) {
    const match = new RegExp(`^${FLEET_IMAGE_PRESET_NAME.replace(/\./g, '\\.')} line (\\d+): (.*)$`).exec(sentence);
    const key = match ? lines.get(Number(match[1])) : undefined;
    if (key) refusedAtBoot.set(key, match![2]!);
  }
  for (const key of Object.keys(good) as FleetImageKey[]) {
    const problem = refusedAtBoot.get(key);
    if (problem) refuse(key, problem);
    // The update keys are read by root's update service whenever it acts: in effect once written.
    else keys[key] = boot.readThisBoot || (FLEET_UPDATE_KEYS as readonly string[]).includes(key) ? 'applied' : 'next-boot';
  }
}

/** The file's settings without its comment (which names the revision: a new revision with the same image keys changes nothing). */
function stripComments(text: string | null): string | null {
  return text === null ? null : text.split('\n').filter((line) => !line.startsWith('#')).join('\n');
}
