/**
 * Per-client presets: what a netbooted client finds as its `thinkiosk.conf` (the kiosk's preset
 * file, README "Preset file"). Its initramfs asks the boot server's HTTP server for
 * `clients/<mac>.conf` (MAC with dashes, lower case), then `clients/default.conf`, and puts the
 * answer where the kiosk reads it. A client's own entry wins over the defaults key by key.
 */
import { isPinHash } from '../app/core/system/admin-pin.js';
import { PRESET_KEYS } from '../contract/preset/keys.js';
import type { BootServerConfig, ClientPreset } from './config.js';

export const DEFAULT_PRESET_FILE = 'default.conf';

export function presetFileName(mac: string): string {
  return `${mac.toLowerCase().replace(/:/g, '-')}.conf`;
}

/**
 * The preset file's lines, in the kiosk's `key = value` form: each of the configuration's keys
 * under its name in the file (contract/preset/keys.ts), in the file's usual order.
 */
export function renderPreset(preset: ClientPreset, heading: string): string {
  const lines = [`# ${heading}`, '# Written by the thinkiosk boot server from its configuration: edit that, not this file.'];
  const values: Record<string, unknown> = preset;
  for (const [name, key] of Object.entries(PRESET_KEYS)) {
    const value = key.yaml ? values[key.yaml.name] : undefined;
    if (value === undefined) continue;
    // Only ever a hash (admin-pin.ts hashes the configuration's plain PINs before this is written).
    if (name === 'admin_pin' && !isPinHash(String(value))) throw new Error('a plain admin PIN reached the client preset: hash it first (hashClientPins)');
    lines.push(`${name} = ${String(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** File name → contents for the HTTP server's clients/ directory. */
export function renderClientPresets(config: BootServerConfig, serverAddress: string): Map<string, string> {
  const files = new Map<string, string>();
  files.set(DEFAULT_PRESET_FILE, renderPreset(config.defaults, `preset for every client netbooted from ${serverAddress}`));
  for (const client of config.clients) {
    const { mac, ...own } = client;
    const merged: ClientPreset = { ...config.defaults };
    for (const [key, value] of Object.entries(own)) if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
    files.set(presetFileName(mac), renderPreset(merged, `preset for the client ${mac} netbooted from ${serverAddress}`));
  }
  return files;
}
