/** The kiosk's own keys of the boot partition's preset file (app/core/preset.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePreset } from '../../app/core/preset.js';

test('preset: the kiosk\'s keys are read, the image\'s are left to the image, mistakes name their line', () => {
  const { preset, problems } = parsePreset([
    '# lab 3', 'controller = https://desktops.example.org', 'language = zh', 'idle_logout_minutes = 30',
    'auto_connect = Lab 3 PC 07', 'wifi_ssid = lab', 'boot_server = on', '',
  ].join('\r\n'), 'thinkiosk.conf');
  assert.deepEqual(problems, []);
  assert.deepEqual(preset, { controller: 'https://desktops.example.org', language: 'zh-CN', idleLogoutSeconds: 1800, autoConnect: 'Lab 3 PC 07' });
});

test('preset: auto_connect takes a desktop id or name on one line, at most 64 characters', () => {
  assert.equal(parsePreset('auto_connect = "3f2a-9c1e"\n', 'f').preset.autoConnect, '3f2a-9c1e');
  const long = parsePreset(`controller = http://c.example\nauto_connect = ${'x'.repeat(65)}\n`, 'thinkiosk.conf');
  assert.equal(long.preset.autoConnect, undefined);
  assert.deepEqual(long.problems, ['thinkiosk.conf line 2: auto_connect must be a desktop\'s id or name (1 to 64 characters, as in the desktop list)']);
  assert.equal(long.preset.controller, 'http://c.example', 'a mistake loses nothing else');
});
