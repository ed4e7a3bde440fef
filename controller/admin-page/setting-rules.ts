/**
 * The rule of each setting a fleet can hand out, for the admin page to show next to its input.
 * The rules live in contract/preset/keys.ts, which the browser cannot load (it needs zod), so the
 * page's server answers them as JSON (serve.ts): one source for the sentences the kiosk, the boot
 * partition's file and the controller's 400 answers use.
 */
import { FLEET_SETTING_KEYS, type FleetSettingKey } from '../../contract/fleet.js';
import { PRESET_KEYS } from '../../contract/preset/keys.js';

export interface SettingRule {
  key: FleetSettingKey;
  /** "idle_logout_minutes must be a whole number from 0 (never) to 1440": what presetProblem says. */
  rule: string;
  /** kiosk: the kiosk applies it at once; image: the image's boot step, at the next boot. */
  appliesAt: 'at-once' | 'next-boot';
  /** Typed like a password and never shown back: the admin PIN (stored as its hash), the Wi-Fi password. */
  secret: boolean;
}

export interface SettingRules {
  keys: SettingRule[];
}

export const SETTING_RULES_FILE = 'setting-rules.json';

const SECRET_KEYS: readonly FleetSettingKey[] = ['admin_pin', 'wifi_password'];

export function settingRules(): SettingRules {
  return {
    keys: FLEET_SETTING_KEYS.map((key) => ({
      key,
      rule: `${key} ${PRESET_KEYS[key].rule}`,
      appliesAt: PRESET_KEYS[key].owner === 'kiosk' ? 'at-once' : 'next-boot',
      secret: SECRET_KEYS.includes(key),
    })),
  };
}
