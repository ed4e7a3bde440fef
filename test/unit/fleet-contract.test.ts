import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SettingValues } from '../../contract/fleet.js';

function problems(values: Record<string, string>): string[] {
  const parsed = SettingValues.safeParse(values);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
}

test('fleet settings: a time zone and a keyboard layout can be handed out (the image checks that they exist)', () => {
  assert.deepEqual(problems({ timezone: 'Europe/Berlin', keyboard: 'de', keyboard_variant: 'nodeadkeys' }), []);
  assert.deepEqual(problems({ timezone: '../etc/passwd' }), ['timezone must be a time zone like Europe/Berlin or Asia/Shanghai (got "../etc/passwd")']);
});

test('fleet settings: a value is one line of the preset file, so a line break cannot add another key', () => {
  assert.deepEqual(problems({ wifi_ssid: 'lab\nssh_key = ssh-ed25519 AAAA evil' }), ['wifi_ssid must be one line (no line breaks)']);
  assert.deepEqual(problems({ keyboard_variant: 'x\rhostname = y' }), ['keyboard_variant must be one line (no line breaks)']);
});
