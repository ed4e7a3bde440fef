/**
 * One schema for thinkiosk.conf (contract/preset): the kiosk, the boot server and the image's boot
 * step give the same answer for the same text. They used to differ on the controller address and
 * on the zh language aliases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePreset } from '../../app/core/preset.js';
import { BootServerConfigError, ClientPreset, bootServerSwitchedOn, parseBootServerConfig } from '../../pxe/config.js';
import { renderPreset } from '../../pxe/client-preset.js';
import { adminPinInPreset } from '../../pxe/admin-pin.js';
import { PRESET_KEYS } from '../../contract/preset/keys.js';
import { readImageSettings } from '../../contract/preset/image-settings.js';

/** The boot server's answer for one YAML value: the value it would hand on, or null when refused. */
function bootServerTakes(yamlName: string, value: unknown): unknown {
  try {
    return (parseBootServerConfig({ defaults: { [yamlName]: value } }, 'x').defaults as Record<string, unknown>)[yamlName];
  } catch (error) {
    if (error instanceof BootServerConfigError) return null;
    throw error;
  }
}

const NO_SYSTEM = { hasTimeZone: () => false, keyboardLayout: () => null };

test('preset schema: the kiosk and the boot server take the same controller addresses (the whole value, no spaces)', () => {
  const cases: [string, boolean][] = [
    ['https://desktops.example.org', true], ['http://controller.lab.example:8480/kiosk', true], ['HTTPS://DESKTOPS.EXAMPLE.ORG', true],
    ['https://desktops.example.org # main', false], ['https://two words', false], ['ftp://desktops.example.org', false], ['https://', false], ['desktops.example.org', false],
  ];
  for (const [address, good] of cases) {
    const kiosk = parsePreset(`controller = ${address}\n`, 'thinkiosk.conf');
    assert.equal(kiosk.preset.controller, good ? address : undefined, `kiosk: ${address}`);
    assert.equal(bootServerTakes('controller', address), good ? address : null, `boot server: ${address}`);
    if (!good) assert.deepEqual(kiosk.problems, [`thinkiosk.conf line 1: controller must be an address like https://desktops.example.org (got "${address}")`]);
  }
});

test('preset schema: zh and zh_CN mean zh-CN for the kiosk and the boot server alike; a netbooted kiosk reads zh-CN', () => {
  for (const [written, meant] of [['en', 'en'], ['zh-CN', 'zh-CN'], ['zh', 'zh-CN'], ['zh_CN', 'zh-CN'], ['fr', null], ['ZH', null]] as const) {
    assert.equal(parsePreset(`language = ${written}\n`, 'f').preset.language, meant ?? undefined, `kiosk: ${written}`);
    assert.equal(bootServerTakes('language', written), meant, `boot server: ${written}`);
  }
  assert.throws(() => parseBootServerConfig({ clients: [{ mac: '52:54:00:00:00:01', language: 'fr' }] }, 'x'), /clients\.0\.language: must be en or zh-CN/);
  const served = renderPreset(parseBootServerConfig({ defaults: { language: 'zh' } }, 'x').defaults, 'test');
  assert.match(served, /^language = zh-CN$/m);
});

test('preset schema: every value the boot server takes, the kiosk reads back from the preset it is served, unchanged', () => {
  const yaml = { controller: 'http://c.example:8480', language: 'zh_CN', autoConnect: '  Lab 3 PC 07 ', idleLogoutMinutes: 30, hostname: 'lab3-kiosk-07' };
  const preset = parseBootServerConfig({ defaults: yaml }, 'x').defaults;
  const kiosk = parsePreset(renderPreset(preset, 'test'), 'thinkiosk.conf');
  assert.deepEqual(kiosk.problems, []);
  assert.deepEqual(kiosk.preset, { controller: 'http://c.example:8480', language: 'zh-CN', autoConnect: 'Lab 3 PC 07', idleLogoutSeconds: 1800 });
  for (const [minutes, good] of [[0, true], [1440, true], [1441, false], [-1, false], [1.5, false]] as const) {
    assert.equal(bootServerTakes('idleLogoutMinutes', minutes), good ? minutes : null, `boot server: ${minutes}`);
    assert.equal(parsePreset(`idle_logout_minutes = ${minutes}\n`, 'f').preset.idleLogoutSeconds, good ? minutes * 60 : undefined, `kiosk: ${minutes}`);
  }
  assert.equal(bootServerTakes('idleLogoutMinutes', '30'), null, 'a YAML number stays a number');
  assert.throws(() => parseBootServerConfig({ defaults: { autoConnect: 'x'.repeat(65) } }, 'x'), /defaults\.autoConnect: must be a desktop's id or name \(1 to 64 characters, as in the desktop list\)/);
});

test('preset schema: the boot server\'s YAML keys are the table\'s, and its presets use the file\'s names', () => {
  const fromTable = Object.values(PRESET_KEYS).flatMap((key) => (key.yaml ? [key.yaml.name] : [])).sort();
  assert.deepEqual(Object.keys(ClientPreset.shape).sort(), fromTable);
  const text = renderPreset({ idleLogoutMinutes: 0, autoConnect: 'x', hostname: 'h' }, 'test');
  assert.deepEqual(text.split('\n').filter((line) => !line.startsWith('#')), ['idle_logout_minutes = 0', 'auto_connect = x', 'hostname = h', '']);
});

test('preset schema: boot_server and admin_pin read by the boot server as apply-preset and the kiosk read them (last good line, quotes, BOM, CRLF)', () => {
  const texts = [
    '', 'boot_server = on\n', '\uFEFFBoot_Server = "yes"\r\n', 'boot_server = on\nboot_server = off\n', '#boot_server = on\n',
    'boot_server = on\nboot_server = maybe\n', 'boot_server = on # here\n',
  ];
  for (const text of texts) {
    assert.equal(bootServerSwitchedOn(text), readImageSettings(text, 'f', NO_SYSTEM).bootServer, JSON.stringify(text));
  }
  assert.equal(bootServerSwitchedOn('boot_server = on\nboot_server = maybe\n'), true, 'a wrong line is passed over, as apply-preset does (and says so)');
  assert.equal(adminPinInPreset('\uFEFFcontroller = http://x\r\nadmin_pin = " 2468 "\r\n#admin_pin = 1111\r\n'), '2468');
  assert.equal(adminPinInPreset('admin_pin = 24 68\n'), '24 68', 'a wrong PIN is found, and refused later with a sentence, not skipped silently');
});

test('preset schema: the kiosk\'s fingerprint keeps the file\'s order (kiosks in the field compare it with the one they saved)', () => {
  const reading = parsePreset('language = en\ncontroller = https://a.example\nadmin_pin = scrypt$1$2$3$a$b\nadmin_pin = 2468\ncontroller = https://b.example\n', 'f');
  assert.equal(reading.fingerprint, '{"language":"en","controller":"https://b.example","adminPinHash":"scrypt$1$2$3$a$b"}');
});
