/**
 * The update keys as root's update service reads them, whenever it acts: the boot partition's
 * thinkiosk.conf (root's alone), with the fleet's file on top for every key the fleet sets (the same
 * precedence as apply-preset's). A wrong line is passed over, as every reader of the file does;
 * apply-preset names it on the setup screen at boot.
 *
 * The fleet's file is written by the kiosk's unprivileged user from what its controller sent
 * (app/core/fleet/fleet-settings.ts), as it is for the Wi-Fi or the time zone: it is read only as a
 * plain file (never through a link). What it can do is bounded by the installer: only a bundle
 * signed by a key of this image installs, whatever the file says.
 */
import { lstat, readFile } from 'node:fs/promises';
import { lastGoodPresetValue } from '../../../contract/preset/reading.js';
import type { Architecture } from '../../../contract/update-bundle.js';

export const DEFAULT_TRIAL_MINUTES = 5;
export const PRESET_FILE = '/boot/firmware/thinkiosk.conf';
export const FLEET_PRESET_FILE = '/var/lib/thinkiosk/settings/fleet-image-preset.conf';

export interface UpdateSettings {
  /** The version this kiosk should run (a fleet's group target, or thinkiosk.conf's); null: none. */
  version: string | null;
  /** Where that version's bundle is: a template with {version} and {arch}. */
  url: string | null;
  allowDowngrade: boolean;
  /** How long a trial boot has to become healthy before the gate returns to the old slot. */
  trialMinutes: number;
}

export function readUpdateSettings(presetText: string | null, fleetText: string | null): UpdateSettings {
  const value = <K extends 'update_version' | 'update_url' | 'update_allow_downgrade' | 'update_trial_minutes'>(key: K) => {
    const fromFleet = fleetText === null ? undefined : lastGoodPresetValue(fleetText, key);
    return fromFleet ?? (presetText === null ? undefined : lastGoodPresetValue(presetText, key));
  };
  return {
    version: value('update_version') ?? null,
    url: value('update_url') ?? null,
    allowDowngrade: value('update_allow_downgrade') ?? false,
    trialMinutes: value('update_trial_minutes') ?? DEFAULT_TRIAL_MINUTES,
  };
}

export async function loadUpdateSettings(presetFile = PRESET_FILE, fleetFile = FLEET_PRESET_FILE): Promise<UpdateSettings> {
  const preset = await readFile(presetFile, 'latin1').catch(() => null);
  const fleetIsPlainFile = await lstat(fleetFile).then((info) => info.isFile(), () => false);
  const fleet = fleetIsPlainFile ? await readFile(fleetFile, 'latin1').catch(() => null) : null;
  return readUpdateSettings(preset, fleet);
}

/** The bundle's address for a version: `{version}` and `{arch}` of the template filled in. */
export function bundleUrlFor(template: string, version: string, architecture: Architecture): string {
  const text = template.replaceAll('{version}', encodeURIComponent(version)).replaceAll('{arch}', architecture);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`update_url "${template}" does not make an address`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`update_url "${template}" is not an http:// or https:// address`);
  return url.toString();
}
