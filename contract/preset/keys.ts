/**
 * Every key of `thinkiosk.conf`, the preset file an admin edits on the boot partition (plain
 * `key = value` lines, `#` comments; README "Preset file"), described once. Three programs read
 * it: the kiosk (its own keys, app/core/preset.ts), the image's boot step apply-preset (its keys,
 * through contract/preset/apply-preset-cli.ts) and the boot server (which writes the kiosk's keys
 * for netbooted clients from its YAML, pxe/config.ts). Each takes its rules and sentences from
 * here, so a value one of them accepts is accepted by all.
 */
import { z } from 'zod';
import { VERSION_PATTERN } from '../version.js';

/** Screen languages of the kiosk. */
export const Language = z.enum(['en', 'zh-CN']);
export type Language = z.infer<typeof Language>;

/**
 * kiosk: checked and applied by the kiosk itself. image: root's, checked by apply-preset at every
 * boot (the update keys are then read by root's update service, app/core/update/update-settings.ts).
 */
export type PresetOwner = 'kiosk' | 'image';

/** What apply-preset looks up on the system it runs on to check a value. */
export interface PresetSystem {
  hasTimeZone(name: string): boolean;
  /** The XKB symbols file of a keyboard layout (its variants are named in it), or null. */
  keyboardLayout(name: string): string | null;
}

export interface PresetKey<T> {
  owner: PresetOwner;
  /** The key in the boot server's YAML, for the keys it hands to netbooted clients. */
  yaml?: { name: string; type: 'string' | 'number' };
  /**
   * Spaces just inside the quotes are dropped. The image's keys keep them: quotes are how a Wi-Fi
   * name or password keeps its leading or trailing spaces.
   */
  trimsInsideQuotes: boolean;
  /** What a good value is, as the admin reads it after the key's name: "must be ...". */
  rule: string;
  /** Whether a problem repeats the wrong value (never a PIN, a password or a long key). */
  echoesValue: boolean;
  /** The value as the programs use it, or undefined when the text is wrong. */
  check(text: string): T | undefined;
  /** Further checks against the running system (apply-preset only): a time zone that exists. */
  existsOn?(value: T, system: PresetSystem): boolean;
}

/** An admin PIN as the file may hold it: plain digits (first boot hashes them) or the hash. */
export interface PresetPin {
  kind: 'plain' | 'hash';
  text: string;
}

const PLAIN_PIN = /^\d{4,12}$/;
/**
 * The controller address, one rule for the kiosk and the boot server (they used to differ: the
 * kiosk only looked at the start, so "https://x.example # main" was saved and failed later at
 * connect time; the boot server wanted the whole value without spaces). The stricter rule won: an
 * address never holds a space, and now the kiosk says so on the setup screen with the line.
 */
const CONTROLLER_ADDRESS = /^https?:\/\/[^\s/]+\S*$/i;
/**
 * zh and zh_CN mean zh-CN (a locale's spelling); the kiosk always took them, the boot server did
 * not. Now both do, and a netbooted client's preset is written with zh-CN.
 */
const LANGUAGE_ALIASES: Readonly<Record<string, Language>> = { zh: 'zh-CN', zh_CN: 'zh-CN' };
// eslint-disable-next-line no-control-regex
const ONE_LINE_NAME = /^[^\x00-\x1f\x7f]{1,64}$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TIME_ZONE_NAME = /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/;
const KEYBOARD_LAYOUT_NAME = /^[a-z0-9_]+$/;
const WPA_KEY_HEX = /^[0-9A-Fa-f]{64}$/;
/** Where a bundle is downloaded from; `{version}` and `{arch}` are filled in (update-settings.ts). */
const UPDATE_URL = /^https?:\/\/[^\s/]+\S*$/i;
// eslint-disable-next-line no-control-regex
const SSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\x00-\x1f\x7f]*)?$/;

const matching = (pattern: RegExp) => (text: string): string | undefined => (pattern.test(text) ? text : undefined);
/**
 * Wi-Fi limits count octets (802.11's SSID, WPA's passphrase). apply-preset, the only reader of
 * these keys, reads the file byte for byte, one latin1 character a byte (apply-preset-cli.ts).
 */
const octets = (text: string): number => text.length;

function onOff(text: string): boolean | undefined {
  const word = text.toLowerCase();
  return ['on', 'yes', 'true', '1'].includes(word) ? true : ['off', 'no', 'false', '0'].includes(word) ? false : undefined;
}

function key<T>(spec: Omit<PresetKey<T>, 'trimsInsideQuotes'>): PresetKey<T> {
  return { ...spec, trimsInsideQuotes: spec.owner === 'kiosk' };
}

/** In the order the admin reads them (the "known:" list of an unknown key). */
export const PRESET_KEYS = {
  controller: key<string>({
    owner: 'kiosk', yaml: { name: 'controller', type: 'string' }, echoesValue: true,
    rule: 'must be an address like https://desktops.example.org',
    check: matching(CONTROLLER_ADDRESS),
  }),
  language: key<Language>({
    owner: 'kiosk', yaml: { name: 'language', type: 'string' }, echoesValue: true,
    rule: 'must be en or zh-CN',
    check: (text) => Language.safeParse(LANGUAGE_ALIASES[text] ?? text).data,
  }),
  admin_pin: key<PresetPin>({
    // The boot server checks its YAML's adminPin itself (pxe/config.ts): it must be written in
    // quotes there, and a hash must be one it can hand on.
    owner: 'kiosk', yaml: { name: 'adminPin', type: 'string' }, echoesValue: false,
    rule: 'must be 4 to 12 digits',
    check: (text) => (/^scrypt\$/.test(text) ? { kind: 'hash', text } : PLAIN_PIN.test(text) ? { kind: 'plain', text } : undefined),
  }),
  idle_logout_minutes: key<number>({
    owner: 'kiosk', yaml: { name: 'idleLogoutMinutes', type: 'number' }, echoesValue: false,
    rule: 'must be a whole number from 0 (never) to 1440',
    check: (text) => {
      const minutes = Number(text);
      return Number.isInteger(minutes) && minutes >= 0 && minutes <= 1440 ? minutes : undefined;
    },
  }),
  auto_connect: key<string>({
    owner: 'kiosk', yaml: { name: 'autoConnect', type: 'string' }, echoesValue: false,
    rule: 'must be a desktop\'s id or name (1 to 64 characters, as in the desktop list)',
    check: matching(ONE_LINE_NAME),
  }),
  usb_redirection: key<boolean>({
    // Opens SPICE desktops that allow USB in remote-viewer, which can pass USB devices on; off
    // keeps every SPICE desktop in the page (no USB leaves the kiosk).
    owner: 'kiosk', echoesValue: true,
    rule: 'must be on or off',
    check: (text) => onOff(text),
  }),
  fleet_token: key<string>({
    // A site token made on the controller's admin page: the kiosk enrols itself with it.
    owner: 'kiosk', echoesValue: false,
    rule: 'must be the site token from the controller\'s admin page (16 to 128 letters, digits, - or _)',
    check: matching(/^[A-Za-z0-9_-]{16,128}$/),
  }),
  hostname: key<string>({
    owner: 'image', yaml: { name: 'hostname', type: 'string' }, echoesValue: true,
    rule: 'must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen',
    check: matching(HOSTNAME),
  }),
  timezone: key<string>({
    owner: 'image', echoesValue: true,
    rule: 'must be a time zone like Europe/Berlin or Asia/Shanghai',
    check: matching(TIME_ZONE_NAME),
    existsOn: (zone, system) => system.hasTimeZone(zone),
  }),
  keyboard: key<string>({
    owner: 'image', echoesValue: true,
    rule: 'must be a keyboard layout like us, de, fr or cn',
    check: matching(KEYBOARD_LAYOUT_NAME),
    existsOn: (layout, system) => system.keyboardLayout(layout) !== null,
  }),
  /** Checked against the keyboard line's layout once the whole file is read (image-settings.ts). */
  keyboard_variant: key<string>({
    owner: 'image', echoesValue: true,
    rule: 'must be a variant of the keyboard layout',
    check: (text) => text,
  }),
  wifi_ssid: key<string>({
    owner: 'image', echoesValue: false,
    rule: 'must be a network name of 1 to 32 characters',
    check: (text) => (octets(text) >= 1 && octets(text) <= 32 ? text : undefined),
  }),
  wifi_password: key<string>({
    // 64 hex digits: the WPA key itself (wpa_passphrase's psk=, or what Raspberry Pi Imager writes
    // in network-config), which NetworkManager's psk takes as it is.
    owner: 'image', echoesValue: false,
    rule: 'must be 8 to 63 characters, or the 64 hex digits of a WPA key (or empty for an open network)',
    check: (text) => (octets(text) === 0 || (octets(text) >= 8 && octets(text) <= 63) || WPA_KEY_HEX.test(text) ? text : undefined),
  }),
  boot_server: key<boolean>({
    owner: 'image', echoesValue: true,
    rule: 'must be on or off',
    check: (text) => onOff(text),
  }),
  /**
   * The update keys (issue 12): the version this kiosk should run (a fleet's target per group, or
   * the boot partition's), where its bundle is, whether going back to an older one is allowed, and
   * how long a trial boot has to become healthy. Root's update service reads them (never a file the
   * kiosk's page could write alone), so they are image keys.
   */
  update_version: key<string>({
    owner: 'image', echoesValue: true,
    rule: 'must be a version like 1.4.0 or 1.4.0-rc.1',
    check: matching(VERSION_PATTERN),
  }),
  update_url: key<string>({
    owner: 'image', echoesValue: true,
    rule: 'must be an http:// or https:// address of a .tkupdate bundle ({version} and {arch} are filled in)',
    check: matching(UPDATE_URL),
  }),
  update_allow_downgrade: key<boolean>({
    owner: 'image', echoesValue: true,
    rule: 'must be yes or no',
    check: (text) => onOff(text),
  }),
  update_trial_minutes: key<number>({
    owner: 'image', echoesValue: true,
    rule: 'must be a whole number of minutes from 1 to 60',
    check: (text) => {
      const minutes = Number(text);
      return /^\d+$/.test(text) && minutes >= 1 && minutes <= 60 ? minutes : undefined;
    },
  }),
  /** The only key whose every line counts (image-settings.ts collects them); elsewhere the last good line wins. */
  ssh_key: key<string>({
    owner: 'image', echoesValue: false,
    rule: 'must be one public key line like "ssh-ed25519 AAAA... me@laptop"',
    check: matching(SSH_PUBLIC_KEY),
  }),
} as const;

export type PresetKeyName = keyof typeof PRESET_KEYS;
type ValueOf<Name extends PresetKeyName> = (typeof PRESET_KEYS)[Name] extends PresetKey<infer T> ? T : never;

export function isPresetKeyName(name: string): name is PresetKeyName {
  return Object.hasOwn(PRESET_KEYS, name);
}

/** The text a key's rule is checked on: quotes already off, spaces inside them per the key. */
export function presetValueText(name: PresetKeyName, text: string): string {
  return PRESET_KEYS[name].trimsInsideQuotes ? text.trim() : text;
}

/** One key's value, checked; `PresetSetting` narrows `value` by `key`. */
export function checkPresetValue<Name extends PresetKeyName>(name: Name, text: string, system?: PresetSystem): ValueOf<Name> | undefined {
  const spec = PRESET_KEYS[name] as PresetKey<ValueOf<Name>>;
  const value = spec.check(presetValueText(name, text));
  if (value === undefined || !spec.existsOn) return value;
  return system && spec.existsOn(value, system) ? value : undefined;
}

/** The admin's sentence for a wrong value, after "<file> line N: ". */
export function presetProblem(name: PresetKeyName, text: string): string {
  const spec = PRESET_KEYS[name];
  return `${name} ${spec.rule}${spec.echoesValue ? ` (got "${presetValueText(name, text)}")` : ''}`;
}

/** A good line of the file: its key, its checked value and where it is. */
export type PresetSetting = { [Name in PresetKeyName]: { key: Name; value: ValueOf<Name>; lineNumber: number } }[PresetKeyName];
