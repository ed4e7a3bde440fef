/**
 * What the image's boot step apply-preset (rootfs-overlay/usr/lib/thinkiosk/apply-preset, POSIX
 * shell) asks about thinkiosk.conf, so that it keeps only the changes to the system and checks no
 * value itself:
 *
 *   node dist/contract/preset/apply-preset-cli.js settings [--root DIR] FILE
 *       the image's settings as shell assignments of preset_* variables, for `eval`: every value
 *       in single quotes, so a Wi-Fi password with quotes, $(...), backticks or a newline stays
 *       literal text. --root: where time zones and keyboard layouts are looked up (default /).
 *       preset_kiosk_lines holds what kiosk-lines prints, so a boot starts Node once.
 *       --fleet FLEETFILE: the image's keys a fleet set for this kiosk (written by the kiosk on
 *       the settings partition) win over FILE's; FILE may then be missing. FLEETFILE is read only
 *       when it is a regular file and not a link: the kiosk's user owns its directory, and must
 *       not make this root process read (and quote in its problems) another file.
 *       --imager DIR: Raspberry Pi Imager's customisation files in DIR (the boot partition:
 *       user-data, network-config; contract/preset/imager-customisation.ts) count for every image
 *       key FILE has no line for; FILE may then be missing. preset_notes: what of them was left out.
 *   node dist/contract/preset/apply-preset-cli.js kiosk-lines FILE
 *       the kiosk's lines of the file, line for line (contract/preset/image-settings.ts).
 *
 * The file is read byte for byte (one latin1 character a byte) and printed the same way: a Wi-Fi
 * name or password reaches NetworkManager with the bytes the admin's editor wrote, UTF-8 or not.
 * Exit status 2 with a sentence on stderr when the file cannot be read or the call is wrong.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { presetSystemUnder } from './preset-system.js';
import { kioskLinesOf, readImageSettings, withFleetSettings, type ImageSettings } from './image-settings.js';
import { IMAGER_NETWORK_CONFIG, IMAGER_USER_DATA, readImagerSettings, withImagerSettings, type ImagerFiles } from './imager-customisation.js';

/** A fleet's file holds a few short lines; anything longer is not one the kiosk wrote. */
const FLEET_FILE_MAX_BYTES = 64 * 1024;
/** Imager's files hold a few dozen lines. */
const IMAGER_FILE_MAX_BYTES = 256 * 1024;

/** The file as bytes; a UTF-8 byte-order mark (Windows Notepad) starting a line is no part of it. */
function readBytesAsText(file: string): string {
  return readFileSync(file).toString('latin1').replace(/^\u00EF\u00BB\u00BF/gm, '');
}

/** A small regular file, never read through a link. */
function readSmallRegularFile(file: string, maxBytes: number): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    if (stat.size > maxBytes) throw new Error(`${file} is larger than ${maxBytes} bytes`);
    const bytes = Buffer.alloc(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return bytes.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** The fleet's file: the kiosk's user owns its directory (see settings --fleet above). */
function readFleetFile(file: string): string {
  return readSmallRegularFile(file, FLEET_FILE_MAX_BYTES).toString('latin1').replace(/^\u00EF\u00BB\u00BF/gm, '');
}

/** Imager's files that are there (FAT has no links; a file too large is a mistake to say). */
function readImagerFiles(dir: string): ImagerFiles {
  const one = (name: string): Buffer | undefined => {
    try {
      return readSmallRegularFile(join(dir, name), IMAGER_FILE_MAX_BYTES);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  return { userData: one(IMAGER_USER_DATA), networkConfig: one(IMAGER_NETWORK_CONFIG) };
}

function readBytesAsTextIfThere(file: string): string {
  try {
    return readBytesAsText(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** 'text' for sh: nothing is special inside single quotes but the quote itself. */
function shellQuoted(text: string): string {
  // A shell variable cannot hold a NUL byte; the shell would drop it too.
  return `'${text.replace(/\0/g, '').replace(/'/g, `'\\''`)}'`;
}

/** Names the shell may rely on: one assignment each, always all of them. */
function shellAssignments(settings: ImageSettings & { notes?: string[] }, kioskLines: string): string {
  const lines = (items: string[]): string => items.map((item) => `${item}\n`).join('');
  const values: Record<string, string> = {
    preset_hostname: settings.hostname ?? '',
    preset_timezone: settings.timezone ?? '',
    preset_keyboard: settings.keyboard ?? '',
    preset_keyboard_variant: settings.keyboardVariant ?? '',
    preset_wifi_ssid: settings.wifi?.ssid ?? '',
    preset_wifi_password: settings.wifi?.password ?? '',
    preset_wifi_hidden: settings.wifi?.hidden ? 'yes' : '',
    preset_boot_server: settings.bootServer ? 'on' : 'off',
    preset_ssh_keys: lines(settings.sshKeys),
    preset_pin_line: settings.plainPin ? String(settings.plainPin.lineNumber) : '',
    preset_pin: settings.plainPin?.pin ?? '',
    preset_problems: lines(settings.problems),
    preset_notes: lines(settings.notes ?? []),
    // The kiosk's copy of the file as it is now: one Node start per boot, not two (apply-preset
    // asks kiosk-lines again only after it rewrote the file, when a plain PIN was hashed).
    preset_kiosk_lines: kioskLines,
  };
  return Object.entries(values).map(([name, value]) => `${name}=${shellQuoted(value)}\n`).join('');
}

function run(argv: string[]): string {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { root: { type: 'string', default: '/' }, fleet: { type: 'string' }, imager: { type: 'string' } } });
  const [command, file, ...extra] = positionals;
  if (!file || extra.length) throw new Error('usage: apply-preset-cli.js settings [--root DIR] [--fleet FLEETFILE] [--imager DIR] FILE | kiosk-lines FILE');
  if (command === 'settings') {
    // With a fleet's file or Imager's, a kiosk without thinkiosk.conf still gets their settings.
    const text = values.fleet !== undefined || values.imager !== undefined ? readBytesAsTextIfThere(file) : readBytesAsText(file);
    const system = presetSystemUnder(values.root);
    // Sentences name the file as the admin knows it (thinkiosk.conf), not its mount point.
    let settings: ImageSettings & { notes?: string[] } = readImageSettings(text, basename(file), system);
    // Imager's under thinkiosk.conf, the fleet's over both.
    if (values.imager !== undefined) settings = withImagerSettings(settings, text, readImagerSettings(readImagerFiles(values.imager), system));
    if (values.fleet !== undefined) settings = { ...withFleetSettings(settings, readFleetFile(values.fleet), basename(values.fleet), system), notes: settings.notes ?? [] };
    return shellAssignments(settings, kioskLinesOf(text));
  }
  if (command === 'kiosk-lines') return kioskLinesOf(readBytesAsText(file));
  throw new Error(`unknown command "${command}" (settings or kiosk-lines)`);
}

try {
  process.stdout.write(Buffer.from(run(process.argv.slice(2)), 'latin1'));
} catch (error) {
  process.stderr.write(`apply-preset-cli: ${(error as Error).message}\n`);
  process.exitCode = 2;
}
