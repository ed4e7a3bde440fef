/**
 * The preset file an admin edits on the boot partition before first boot (plain `key = value`
 * lines, `#` comments). The kiosk reads the keys it owns; the image's first-boot script owns the
 * others (Wi-Fi, time zone, hostname, ...) and ignores these. A mistake never stops the kiosk: it
 * becomes a message on the setup screen naming the line.
 */
import { readFileSync } from 'node:fs';
import { Language } from './kiosk-api.js';

export interface KioskPreset {
  controller?: string;
  language?: Language;
  /** scrypt hash (the first boot replaces a plain PIN with its hash). */
  adminPinHash?: string;
  idleLogoutSeconds?: number;
  /** The desktop (id or name) opened right after login, e.g. a lab PC's own machine. */
  autoConnect?: string;
}

export interface PresetReading {
  preset: KioskPreset;
  problems: string[];
  /** The kiosk's keys as read, to notice a preset edited since it was last applied. */
  fingerprint: string;
}

export function parsePreset(text: string, source: string): PresetReading {
  const preset: KioskPreset = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.replace(/^\uFEFF/, '').trim();
    if (!line || line.startsWith('#')) return;
    const match = /^([A-Za-z_][\w.-]*)\s*=\s*(.*)$/.exec(line);
    const where = `${source} line ${index + 1}`;
    if (!match) {
      problems.push(`${where}: "${line.slice(0, 40)}" is not of the form key = value`);
      return;
    }
    const key = match[1]!.toLowerCase();
    const value = match[2]!.replace(/^"(.*)"$/, '$1').trim();
    switch (key) {
      case 'controller':
        if (!/^https?:\/\/[^\s/]+/i.test(value)) problems.push(`${where}: controller must be an address like https://desktops.example.org (got "${value}")`);
        else preset.controller = value;
        break;
      case 'language': {
        const language = Language.safeParse(value === 'zh' || value === 'zh_CN' ? 'zh-CN' : value);
        if (language.success) preset.language = language.data;
        else problems.push(`${where}: language must be en or zh-CN (got "${value}")`);
        break;
      }
      case 'admin_pin':
        if (/^scrypt\$/.test(value)) preset.adminPinHash = value;
        else if (!/^\d{4,12}$/.test(value)) problems.push(`${where}: admin_pin must be 4 to 12 digits`);
        // A plain PIN is hashed by the first boot before the kiosk starts; ignore it here.
        break;
      case 'idle_logout_minutes': {
        const minutes = Number(value);
        if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440) problems.push(`${where}: idle_logout_minutes must be a whole number from 0 (never) to 1440`);
        else preset.idleLogoutSeconds = minutes * 60;
        break;
      }
      case 'auto_connect':
        // eslint-disable-next-line no-control-regex
        if (!/^[^\x00-\x1f\x7f]{1,64}$/.test(value)) problems.push(`${where}: auto_connect must be a desktop's id or name (1 to 64 characters, as in the desktop list)`);
        else preset.autoConnect = value;
        break;
      default:
        break; // the image's keys (wifi_ssid, timezone, hostname, boot_server, ...)
    }
  });
  return { preset, problems, fingerprint: JSON.stringify(preset) };
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
