/**
 * The image's keys of thinkiosk.conf as apply-preset applies them at every boot: what to set
 * (host name, time zone, keyboard, Wi-Fi, boot server, SSH keys, the plain PIN to hash), what is
 * wrong (sentences naming the line), and the kiosk's own lines, copied line for line into a file
 * the kiosk may read (the boot partition is root's alone). apply-preset only carries these out.
 */
import { checkPreset, presetLines } from './reading.js';
import { PRESET_KEYS, checkPresetValue, isPresetKeyName, type PresetSystem } from './keys.js';

export interface ImageSettings {
  hostname: string | null;
  timezone: string | null;
  keyboard: string | null;
  /** Only with a keyboard whose layout has this variant. */
  keyboardVariant: string | null;
  /**
   * null: no Wi-Fi connection is written (none set, or its password line is wrong). hidden: the
   * network does not broadcast its name (only Raspberry Pi Imager's network-config says so).
   */
  wifi: { ssid: string; password: string; hidden?: boolean } | null;
  bootServer: boolean;
  sshKeys: string[];
  /** The last admin_pin line when it holds plain digits: the first boot replaces it by the hash. */
  plainPin: { lineNumber: number; pin: string } | null;
  /** `<source> line N: ...`, in the file's order, then those about two lines together. */
  problems: string[];
}

export function readImageSettings(fileText: string, source: string, system: PresetSystem): ImageSettings {
  const { settings: lines, rejected, problems } = checkPreset(fileText, source, 'image', system);
  const settings: ImageSettings = {
    hostname: null, timezone: null, keyboard: null, keyboardVariant: null, wifi: null, bootServer: false, sshKeys: [], plainPin: null, problems,
  };
  let variant: { name: string; lineNumber: number } | null = null;
  let ssid: string | null = null;
  let password: { text: string; lineNumber: number } | null = null;
  for (const line of lines) {
    switch (line.key) {
      case 'hostname': settings.hostname = line.value; break;
      case 'timezone': settings.timezone = line.value; break;
      case 'keyboard': settings.keyboard = line.value; break;
      case 'keyboard_variant': variant = { name: line.value, lineNumber: line.lineNumber }; break;
      case 'wifi_ssid': ssid = line.value; break;
      case 'wifi_password': password = { text: line.value, lineNumber: line.lineNumber }; break;
      case 'boot_server': settings.bootServer = line.value; break;
      case 'ssh_key': settings.sshKeys.push(line.value); break;
      default: break; // only the image's keys are checked here
    }
  }
  const where = (lineNumber: number): string => `${source} line ${lineNumber}`;

  if (variant?.name) {
    const layout = settings.keyboard === null ? null : system.keyboardLayout(settings.keyboard);
    if (layout === null) problems.push(`${where(variant.lineNumber)}: keyboard_variant needs a valid keyboard line too`);
    else if (!hasVariant(layout, variant.name)) problems.push(`${where(variant.lineNumber)}: keyboard_variant "${variant.name}" is not a variant of the ${settings.keyboard} layout`);
    else settings.keyboardVariant = variant.name;
  }

  // A wrong last password line means no Wi-Fi at all, rather than joining with an older password.
  const lastPasswordLine = Math.max(0, ...rejected.filter((line) => line.key === 'wifi_password').map((line) => line.lineNumber));
  const passwordIsWrong = password === null ? lastPasswordLine > 0 : lastPasswordLine > password.lineNumber;
  if (password && !passwordIsWrong && ssid === null) problems.push(`${where(password.lineNumber)}: wifi_password is set but wifi_ssid is not`);
  if (ssid !== null && !passwordIsWrong) settings.wifi = { ssid, password: password?.text ?? '' };

  // The PIN of the last admin_pin line only: the kiosk also keeps the last one (and checks it itself).
  const pinLines = presetLines(fileText).filter((line) => line.kind === 'setting' && line.key === 'admin_pin');
  const lastPin = pinLines.at(-1);
  const pin = lastPin?.kind === 'setting' ? checkPresetValue('admin_pin', lastPin.text) : undefined;
  if (lastPin && pin?.kind === 'plain') settings.plainPin = { lineNumber: lastPin.lineNumber, pin: pin.text };
  return settings;
}

/**
 * The image's keys a fleet may set for the next boot, in a file the kiosk writes on the settings
 * partition (app/core/fleet/fleet-settings.ts). Not ssh_key: the kiosk runs as an unprivileged user,
 * and a file it writes must not give anyone root's SSH. Not boot_server: the kiosk sets that through
 * its own switch at once. The update keys travel in the same file: root's update service reads it
 * whenever it acts (not only at boot), and apply-preset only checks them.
 */
export const FLEET_UPDATE_KEYS = ['update_version', 'update_url', 'update_allow_downgrade', 'update_trial_minutes'] as const;
export const FLEET_IMAGE_KEYS = ['hostname', 'timezone', 'keyboard', 'keyboard_variant', 'wifi_ssid', 'wifi_password', ...FLEET_UPDATE_KEYS] as const;
export type FleetImageKey = (typeof FLEET_IMAGE_KEYS)[number];

/**
 * The boot partition's settings with the fleet's on top: the fleet wins for every key it sets (the
 * keyboard and its variant, and the Wi-Fi name and its password, go together: a variant of another
 * layout, or a password of another network, would be wrong). Lines of other keys in the fleet's
 * file are not applied, and say so.
 */
export function withFleetSettings(boot: ImageSettings, fleetText: string, source: string, system: PresetSystem): ImageSettings {
  const fleet = readImageSettings(fleetText, source, system);
  const set = new Set<string>();
  const problems = [...fleet.problems];
  for (const line of presetLines(fleetText)) {
    if (line.kind !== 'setting') continue;
    if ((FLEET_IMAGE_KEYS as readonly string[]).includes(line.key)) set.add(line.key);
    else if (isPresetKeyName(line.key)) problems.push(`${source} line ${line.lineNumber}: ${line.key} is not taken from the fleet's file (only ${FLEET_IMAGE_KEYS.join(', ')})`);
  }
  const merged: ImageSettings = { ...boot, problems: [...boot.problems, ...problems] };
  if (set.has('hostname')) merged.hostname = fleet.hostname;
  if (set.has('timezone')) merged.timezone = fleet.timezone;
  if (set.has('keyboard') || set.has('keyboard_variant')) {
    merged.keyboard = fleet.keyboard;
    merged.keyboardVariant = fleet.keyboardVariant;
  }
  if (set.has('wifi_ssid') || set.has('wifi_password')) merged.wifi = fleet.wifi;
  return merged;
}

/** Its name, as XKB's symbols file of the layout declares it: `xkb_symbols "nodeadkeys" {`. */
export function hasVariant(layoutSymbols: string, variant: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(variant) && new RegExp(`xkb_symbols\\s+"${variant}"`).test(layoutSymbols);
}

/**
 * The kiosk's lines of the file at the same line numbers, every other line empty: its sentences
 * then name the right line of thinkiosk.conf, and an edited file still reads as edited. Never
 * the image's keys (the Wi-Fi password), nor a PIN that is not yet a hash.
 */
export function kioskLinesOf(fileText: string): string {
  const records = fileText === '' ? [] : fileText.replace(/\n$/, '').split('\n');
  const kept = new Map<number, string>();
  for (const line of presetLines(fileText)) {
    if (line.kind !== 'setting') continue;
    const forKiosk = line.key === 'admin_pin'
      ? checkPresetValue('admin_pin', line.text)?.kind === 'hash'
      : isPresetKeyName(line.key) && PRESET_KEYS[line.key].owner === 'kiosk';
    if (forKiosk) kept.set(line.lineNumber, line.line);
  }
  return records.map((_, index) => `${kept.get(index + 1) ?? ''}\n`).join('');
}
