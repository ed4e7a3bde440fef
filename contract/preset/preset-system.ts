/**
 * The system a preset's values are checked against (PresetSystem in keys.ts): time zones and
 * keyboard layouts as installed under a root directory. apply-preset asks it at boot (through
 * apply-preset-cli.ts), and the kiosk asks it before it writes a fleet's keys for that boot.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PresetSystem } from './keys.js';

export function presetSystemUnder(root: string): PresetSystem {
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
