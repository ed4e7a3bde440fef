/**
 * The preset file an admin edits on the boot partition before first boot (plain `key = value`
 * lines, `#` comments; its keys and rules: contract/preset/keys.ts). The kiosk reads the keys it
 * owns; the image's boot step owns the others (Wi-Fi, time zone, hostname, ...). A mistake never
 * stops the kiosk: it becomes a message on the setup screen naming the line.
 */
import { readFileSync } from 'node:fs';
import { checkPreset } from '../../contract/preset/reading.js';
import type { Language } from './kiosk-api.js';

export interface KioskPreset {
  controller?: string;
  language?: Language;
  /** scrypt hash (the first boot replaces a plain PIN with its hash). */
  adminPinHash?: string;
  idleLogoutSeconds?: number;
  /** The desktop (id or name) opened right after login, e.g. a lab PC's own machine. */
  autoConnect?: string;
  /** SPICE desktops that allow USB open in remote-viewer (on) or always in the page (off). */
  usbRedirection?: boolean;
}

export interface PresetReading {
  preset: KioskPreset;
  problems: string[];
  /** The kiosk's keys as read, to notice a preset edited since it was last applied. */
  fingerprint: string;
  /**
   * The site token the kiosk enrols in its controller's fleet with (fleet_token). Kept out of
   * `preset` and so out of the fingerprint, which is saved in settings.json.
   */
  fleetToken?: string;
}

export function parsePreset(text: string, source: string): PresetReading {
  const preset: KioskPreset = {};
  let fleetToken: string | undefined;
  const { settings, problems } = checkPreset(text, source, 'kiosk');
  // In the file's order: the fingerprint's key order is the one kiosks in the field have saved.
  for (const setting of settings) {
    switch (setting.key) {
      case 'controller': preset.controller = setting.value; break;
      case 'language': preset.language = setting.value; break;
      // A plain PIN is hashed by the first boot before the kiosk starts; ignore it here.
      case 'admin_pin': if (setting.value.kind === 'hash') preset.adminPinHash = setting.value.text; break;
      case 'idle_logout_minutes': preset.idleLogoutSeconds = setting.value * 60; break;
      case 'auto_connect': preset.autoConnect = setting.value; break;
      case 'usb_redirection': preset.usbRedirection = setting.value; break;
      case 'fleet_token': fleetToken = setting.value; break;
      default: break; // only the kiosk's keys are checked here
    }
  }
  return { preset, problems, fingerprint: JSON.stringify(preset), ...(fleetToken ? { fleetToken } : {}) };
}

/** Reads the preset file if there is one; a missing file is normal (no preset). */
export function readPreset(path: string): PresetReading | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { preset: {}, problems: [`${path} cannot be read: ${(error as Error).message}`], fingerprint: '{}' };
  }
  return parsePreset(text, path);
}
