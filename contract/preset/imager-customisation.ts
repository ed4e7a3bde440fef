/**
 * What Raspberry Pi Imager's OS customisation wrote to the boot partition, read as the image's
 * preset keys. The image's Imager manifest declares `"init_format": "cloudinit"` (image/imager/
 * manifest.ts): Imager then writes declarative cloud-init files, never a script, and thinkiosk
 * never runs cloud-init: only the values below are taken from them, each checked by the same rule
 * as its thinkiosk.conf key (keys.ts), and applied by apply-preset at every boot like the rest.
 *
 * The formats are those of rpi-imager's src/customization_generator.cpp (generateCloudInitUserData
 * and generateCloudInitNetworkConfig) and src/downloadthread.cpp (_customizeImage: "#cloud-config"
 * prepended to user-data; meta-data holds only an instance-id; cmdline.txt gets ` ds=nocloud;i=…`).
 *
 *   user-data       hostname → hostname; timezone → timezone; keyboard.layout (and .variant) →
 *                   keyboard (keyboard_variant); user.ssh_authorized_keys (also users[] and the
 *                   top-level ssh_authorized_keys that older Imagers and hand-written files use)
 *                   → ssh_key.
 *   network-config  the first access point of network.wifis.*: its name → wifi_ssid, its password
 *                   (Imager writes the 64-hex WPA key it derived) → wifi_password, none → an open
 *                   network; `hidden: true` → NetworkManager looks for it by name.
 *
 * What Imager writes that a kiosk has no use for is left out on purpose, and said in the journal
 * (a note), not on the kiosk's screen: the login account (the appliance has none; SSH is root's,
 * by key only), the password, packages, apt settings, runcmd commands (never run). Anything else,
 * and every wrong value, is a problem sentence naming the file and line, as with thinkiosk.conf.
 *
 * thinkiosk.conf wins: a key it has a line for is never taken from Imager's files.
 */
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node } from 'yaml';
import { checkPresetValue, presetProblem, type PresetKeyName, type PresetSystem } from './keys.js';
import { presetLines } from './reading.js';
import { hasVariant, type ImageSettings } from './image-settings.js';

/** Imager's files on the boot partition, as written there (read byte for byte). */
export interface ImagerFiles {
  userData?: Buffer;
  networkConfig?: Buffer;
}

export const IMAGER_USER_DATA = 'user-data';
export const IMAGER_NETWORK_CONFIG = 'network-config';

/** The image's keys Imager can set, each checked as its thinkiosk.conf line would be. */
export interface ImagerSettings {
  hostname: string | null;
  timezone: string | null;
  keyboard: string | null;
  keyboardVariant: string | null;
  wifi: { ssid: string; password: string; hidden: boolean } | null;
  sshKeys: string[];
  /** `<file> line N: ...` — shown on the kiosk like thinkiosk.conf's. */
  problems: string[];
  /** What was deliberately left out (journal only). */
  notes: string[];
}

/** Top-level user-data keys Imager writes that a kiosk leaves out on purpose, and why. */
const USER_DATA_LEFT_OUT: Readonly<Record<string, string | null>> = {
  manage_etc_hosts: null, // apply-preset writes /etc/hosts itself
  manage_resolv_conf: null, // NetworkManager owns resolv.conf
  packages: 'packages are not installed: the root file system is read-only',
  apt: null,
  package_update: null,
  package_upgrade: null,
  runcmd: 'commands in runcmd are never run',
  ssh_pwauth: null, // SSH is by key only (a note below when a password is asked for)
  rpi: 'interface settings (rpi:) are not applied',
  locale: 'locale is not applied: the screen language is set with "language =" in thinkiosk.conf',
};
const USER_KEYS_LEFT_OUT = new Set(['name', 'shell', 'lock_passwd', 'sudo', 'groups', 'gecos', 'primary_group', 'passwd', 'hashed_passwd', 'plain_text_passwd']);

/**
 * A YAML string as the image's byte-per-character text (apply-preset-cli.ts). Imager escapes every
 * byte of a Wi-Fi name outside printable ASCII as \xHH, so in an ASCII file each character of a
 * name is one octet; text written literally (a UTF-8 file) is taken as its UTF-8 bytes.
 */
function asOctets(text: string, fileIsAscii: boolean): string {
  const oneOctetEach = fileIsAscii && [...text].every((char) => char.codePointAt(0)! <= 0xff);
  return oneOctetEach ? text : Buffer.from(text, 'utf8').toString('latin1');
}

interface YamlFile {
  name: string;
  root: Node | null;
  ascii: boolean;
  lineOf(node: Node | null | undefined): number;
}

function readYaml(name: string, bytes: Buffer, settings: ImagerSettings): YamlFile | null {
  const lineCounter = new LineCounter();
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const document = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  if (document.errors.length) {
    const error = document.errors[0]!;
    const line = lineCounter.linePos(error.pos[0]).line;
    settings.problems.push(`${name} line ${line}: not readable as YAML (${error.code}): none of it is applied`);
    return null;
  }
  return {
    name, root: (document.contents as Node | null) ?? null, ascii: !/[^\p{ASCII}]/u.test(text),
    lineOf: (node) => (node?.range ? lineCounter.linePos(node.range[0]).line : 1),
  };
}

/** The pairs of a YAML map with their key's text, or [] when the node is not a map. */
function pairsOf(node: Node | null | undefined): { key: string; keyNode: Node; value: Node | null }[] {
  if (!isMap(node)) return [];
  return node.items.flatMap((pair) => (isScalar(pair.key) ? [{ key: String(pair.key.value), keyNode: pair.key as Node, value: (pair.value as Node | null) ?? null }] : []));
}

function scalarText(node: Node | null): string | undefined {
  return isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') ? String(node.value) : undefined;
}

const EMPTY: () => ImagerSettings = () => ({ hostname: null, timezone: null, keyboard: null, keyboardVariant: null, wifi: null, sshKeys: [], problems: [], notes: [] });

export function readImagerSettings(files: ImagerFiles, system: PresetSystem): ImagerSettings {
  const settings = EMPTY();
  if (files.userData) readUserData(files.userData, settings, system);
  if (files.networkConfig) readNetworkConfig(files.networkConfig, settings);
  return settings;
}

function readUserData(bytes: Buffer, settings: ImagerSettings, system: PresetSystem): void {
  const name = IMAGER_USER_DATA;
  // cloud-init runs a user-data that is a script (#!) or anything but #cloud-config: thinkiosk never does.
  if (!/^(\uFEFF)?#cloud-config[ \t]*\r?\n/.test(bytes.toString('utf8'))) {
    settings.problems.push(`${name} line 1: only a "#cloud-config" file is read (scripts are never run): none of it is applied`);
    return;
  }
  const file = readYaml(name, bytes, settings);
  if (!file || file.root === null) return;
  if (!isMap(file.root)) { settings.problems.push(`${name} line 1: not a cloud-config map: none of it is applied`); return; }

  const take = <Key extends PresetKeyName>(key: Key, node: Node | null, apply: (value: string) => void): void => {
    const text = scalarText(node);
    const octets = text === undefined ? undefined : asOctets(text, file.ascii);
    const value = octets === undefined ? undefined : checkPresetValue(key, octets, system);
    if (typeof value === 'string') apply(value);
    else settings.problems.push(`${name} line ${file.lineOf(node)}: ${presetProblem(key, octets ?? '')}`);
  };
  const takeKeys = (node: Node | null): void => {
    if (!isSeq(node)) { settings.problems.push(`${name} line ${file.lineOf(node)}: ssh_authorized_keys must be a list of public keys`); return; }
    for (const item of node.items as Node[]) take('ssh_key', item, (key) => settings.sshKeys.push(key));
  };
  const readUser = (user: Node | null): void => {
    for (const { key, keyNode, value } of pairsOf(user)) {
      if (key === 'ssh_authorized_keys') takeKeys(value);
      else if (['passwd', 'hashed_passwd', 'plain_text_passwd'].includes(key)) settings.notes.push(`${name} line ${file.lineOf(keyNode)}: the account password is not used (the kiosk has no login accounts; SSH is root's, by key only)`);
      else if (!USER_KEYS_LEFT_OUT.has(key)) settings.problems.push(`${name} line ${file.lineOf(keyNode)}: "${key}" of the user is not applied by thinkiosk`);
    }
  };

  for (const { key, keyNode, value } of pairsOf(file.root)) {
    switch (key) {
      case 'hostname': take('hostname', value, (host) => (settings.hostname = host)); break;
      case 'timezone': take('timezone', value, (zone) => (settings.timezone = zone)); break;
      case 'keyboard': {
        const parts = new Map(pairsOf(value).map((pair) => [pair.key, pair.value]));
        if (!parts.has('layout')) { settings.problems.push(`${name} line ${file.lineOf(keyNode)}: keyboard has no layout`); break; }
        take('keyboard', parts.get('layout') ?? null, (layout) => (settings.keyboard = layout));
        const variant = parts.get('variant');
        if (variant !== undefined && settings.keyboard !== null) {
          const text = scalarText(variant) ?? '';
          if (text === '') break;
          if (hasVariant(system.keyboardLayout(settings.keyboard) ?? '', text)) settings.keyboardVariant = text;
          else settings.problems.push(`${name} line ${file.lineOf(variant)}: keyboard variant "${text}" is not a variant of the ${settings.keyboard} layout`);
        }
        break; // model (Imager: pc105) and options: the compositor's defaults
      }
      case 'ssh_authorized_keys': takeKeys(value); break;
      case 'user': readUser(value); break;
      case 'users':
        if (!isSeq(value)) { settings.problems.push(`${name} line ${file.lineOf(keyNode)}: users must be a list`); break; }
        for (const user of value.items as Node[]) if (!(isScalar(user) && user.value === 'default')) readUser(user);
        break;
      case 'ssh_pwauth':
        if (isScalar(value) && value.value === true) settings.notes.push(`${name} line ${file.lineOf(keyNode)}: SSH by password is not offered (by key only)`);
        break;
      default:
        if (Object.hasOwn(USER_DATA_LEFT_OUT, key)) {
          const why = USER_DATA_LEFT_OUT[key];
          if (why) settings.notes.push(`${name} line ${file.lineOf(keyNode)}: ${why}`);
        } else {
          settings.problems.push(`${name} line ${file.lineOf(keyNode)}: "${key}" is not applied by thinkiosk (it takes hostname, timezone, keyboard and SSH keys)`);
        }
    }
  }
}

function readNetworkConfig(bytes: Buffer, settings: ImagerSettings): void {
  const name = IMAGER_NETWORK_CONFIG;
  const file = readYaml(name, bytes, settings);
  if (!file || file.root === null) return;
  const network = pairsOf(file.root).find((pair) => pair.key === 'network')?.value ?? file.root;
  const wifis = pairsOf(network).find((pair) => pair.key === 'wifis');
  if (!wifis) return; // wired only: NetworkManager already asks DHCP on every wired card
  const points = pairsOf(wifis.value).flatMap((device) => {
    const list = pairsOf(device.value).find((pair) => pair.key === 'access-points');
    return list ? pairsOf(list.value) : [];
  });
  const [point, ...more] = points;
  if (!point) { settings.problems.push(`${name} line ${file.lineOf(wifis.keyNode)}: wifis has no access point`); return; }
  if (more.length) settings.problems.push(`${name} line ${file.lineOf(more[0]!.keyNode)}: only the first Wi-Fi network is used ("${point.key}")`);
  const where = `${name} line ${file.lineOf(point.keyNode)}`;
  const ssid = asOctets(point.key, file.ascii);
  if (checkPresetValue('wifi_ssid', ssid) === undefined) { settings.problems.push(`${where}: ${presetProblem('wifi_ssid', ssid)}`); return; }

  const fields = new Map(pairsOf(point.value).map((pair) => [pair.key, pair]));
  const auth = new Map(pairsOf(fields.get('auth')?.value).map((pair) => [pair.key, pair]));
  const passwordNode = fields.get('password')?.value ?? auth.get('password')?.value ?? null;
  const open = scalarText(auth.get('key-management')?.value ?? null) === 'none';
  let password = '';
  if (passwordNode !== null && !open) {
    password = asOctets(scalarText(passwordNode) ?? '', file.ascii);
    if (checkPresetValue('wifi_password', password) === undefined) {
      settings.problems.push(`${name} line ${file.lineOf(passwordNode)}: ${presetProblem('wifi_password', password)}`);
      return; // a wrong password means no Wi-Fi, as with thinkiosk.conf
    }
  }
  const hidden = fields.get('hidden')?.value;
  settings.wifi = { ssid, password, hidden: isScalar(hidden) && hidden.value === true };
}

/** The keys thinkiosk.conf's lines set, by what Imager can set (a keyboard and its variant go together, and so do a network and its password). */
const IMAGER_KEY_GROUPS = {
  'host name': ['hostname'], 'time zone': ['timezone'], keyboard: ['keyboard', 'keyboard_variant'], 'Wi-Fi network': ['wifi_ssid', 'wifi_password'], 'SSH keys': ['ssh_key'],
} as const;

/**
 * thinkiosk.conf's settings with Imager's under them: Imager's value of a key counts only when
 * thinkiosk.conf has no line for that key (right or wrong: the admin's file is the one truth).
 */
export function withImagerSettings(conf: ImageSettings, confText: string, imager: ImagerSettings): ImageSettings & { notes: string[] } {
  const written = new Set(presetLines(confText).flatMap((line) => (line.kind === 'setting' ? [line.key] : [])));
  const confHas = (group: keyof typeof IMAGER_KEY_GROUPS): boolean => IMAGER_KEY_GROUPS[group].some((key) => written.has(key));
  const merged = { ...conf, problems: [...conf.problems, ...imager.problems], notes: [...imager.notes] };
  const use = (group: keyof typeof IMAGER_KEY_GROUPS, imagerHasIt: boolean, apply: () => void): void => {
    if (!imagerHasIt) return;
    if (confHas(group)) merged.notes.push(`Raspberry Pi Imager's ${group} ${group.endsWith('s') ? 'are' : 'is'} not used: thinkiosk.conf sets ${group.endsWith('s') ? 'them' : 'it'}`);
    else apply();
  };
  use('host name', imager.hostname !== null, () => (merged.hostname = imager.hostname));
  use('time zone', imager.timezone !== null, () => (merged.timezone = imager.timezone));
  use('keyboard', imager.keyboard !== null, () => { merged.keyboard = imager.keyboard; merged.keyboardVariant = imager.keyboardVariant; });
  use('Wi-Fi network', imager.wifi !== null, () => (merged.wifi = imager.wifi));
  use('SSH keys', imager.sshKeys.length > 0, () => (merged.sshKeys = [...imager.sshKeys]));
  return merged;
}
