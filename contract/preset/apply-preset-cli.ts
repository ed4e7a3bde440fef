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
 *   node dist/contract/preset/apply-preset-cli.js kiosk-lines FILE
 *       the kiosk's lines of the file, line for line (contract/preset/image-settings.ts).
 *
 * The file is read byte for byte (one latin1 character a byte) and printed the same way: a Wi-Fi
 * name or password reaches NetworkManager with the bytes the admin's editor wrote, UTF-8 or not.
 * Exit status 2 with a sentence on stderr when the file cannot be read or the call is wrong.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PresetSystem } from './keys.js';
import { kioskLinesOf, readImageSettings, type ImageSettings } from './image-settings.js';

/** The file as bytes; a UTF-8 byte-order mark (Windows Notepad) starting a line is no part of it. */
function readBytesAsText(file: string): string {
  return readFileSync(file).toString('latin1').replace(/^\u00EF\u00BB\u00BF/gm, '');
}

function systemUnder(root: string): PresetSystem {
  return {
    hasTimeZone(name) {
      try {
        return statSync(join(root, 'usr/share/zoneinfo', name)).isFile();
      } catch {
        return false;
      }
    },
    keyboardLayout(name) {
      try {
        return readFileSync(join(root, 'usr/share/X11/xkb/symbols', name), 'latin1');
      } catch {
        return null; // missing, or a directory
      }
    },
  };
}

/** 'text' for sh: nothing is special inside single quotes but the quote itself. */
function shellQuoted(text: string): string {
  // A shell variable cannot hold a NUL byte; the shell would drop it too.
  return `'${text.replace(/\0/g, '').replace(/'/g, `'\\''`)}'`;
}

/** Names the shell may rely on: one assignment each, always all of them. */
function shellAssignments(settings: ImageSettings, kioskLines: string): string {
  const lines = (items: string[]): string => items.map((item) => `${item}\n`).join('');
  const values: Record<string, string> = {
    preset_hostname: settings.hostname ?? '',
    preset_timezone: settings.timezone ?? '',
    preset_keyboard: settings.keyboard ?? '',
    preset_keyboard_variant: settings.keyboardVariant ?? '',
    preset_wifi_ssid: settings.wifi?.ssid ?? '',
    preset_wifi_password: settings.wifi?.password ?? '',
    preset_boot_server: settings.bootServer ? 'on' : 'off',
    preset_ssh_keys: lines(settings.sshKeys),
    preset_pin_line: settings.plainPin ? String(settings.plainPin.lineNumber) : '',
    preset_pin: settings.plainPin?.pin ?? '',
    preset_problems: lines(settings.problems),
    // The kiosk's copy of the file as it is now: one Node start per boot, not two (apply-preset
    // asks kiosk-lines again only after it rewrote the file, when a plain PIN was hashed).
    preset_kiosk_lines: kioskLines,
  };
  return Object.entries(values).map(([name, value]) => `${name}=${shellQuoted(value)}\n`).join('');
}

function run(argv: string[]): string {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { root: { type: 'string', default: '/' } } });
  const [command, file, ...extra] = positionals;
  if (!file || extra.length) throw new Error('usage: apply-preset-cli.js settings [--root DIR] FILE | kiosk-lines FILE');
  const text = readBytesAsText(file);
  // Sentences name the file as the admin knows it (thinkiosk.conf), not its mount point.
  if (command === 'settings') return shellAssignments(readImageSettings(text, basename(file), systemUnder(values.root)), kioskLinesOf(text));
  if (command === 'kiosk-lines') return kioskLinesOf(text);
  throw new Error(`unknown command "${command}" (settings or kiosk-lines)`);
}

try {
  process.stdout.write(Buffer.from(run(process.argv.slice(2)), 'latin1'));
} catch (error) {
  process.stderr.write(`apply-preset-cli: ${(error as Error).message}\n`);
  process.exitCode = 2;
}
