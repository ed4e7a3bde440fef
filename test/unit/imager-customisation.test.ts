/**
 * Raspberry Pi Imager's customisation files (init_format "cloudinit", in the formats its current
 * source writes: test/support/imager-files.ts) read as the image's preset keys
 * (contract/preset/imager-customisation.ts), under thinkiosk.conf, through the command apply-preset
 * runs at every boot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImageSettings } from '../../contract/preset/image-settings.js';
import { readImagerSettings, withImagerSettings, type ImagerFiles } from '../../contract/preset/imager-customisation.js';
import { presetSystemUnder } from '../../contract/preset/preset-system.js';
import { REPO } from '../image/appliance.js';
import { imagerNetworkConfig, imagerUserData, imagerWifiKey, type ImagerChoices } from '../support/imager-files.js';

const CLI = join(REPO, 'dist/contract/preset/apply-preset-cli.js');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9vEX1kBQ1W8YzW1d7FjvE1sFJxqg5vXbq0a3z6r2Xr alice@laptop';
const KEY2 = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 bob@desk';

/** Time zones and keyboard layouts as apply-preset looks them up. */
function fakeSystemRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'thinkiosk-imager-'));
  for (const dir of ['usr/share/zoneinfo/Europe', 'usr/share/zoneinfo/Asia', 'usr/share/X11/xkb/symbols', 'boot/firmware']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'usr/share/zoneinfo/Europe/Berlin'), '');
  writeFileSync(join(root, 'usr/share/zoneinfo/Asia/Shanghai'), '');
  writeFileSync(join(root, 'usr/share/X11/xkb/symbols/de'), 'xkb_symbols "basic" {};\nxkb_symbols "nodeadkeys" {};\n');
  writeFileSync(join(root, 'usr/share/X11/xkb/symbols/gb'), 'xkb_symbols "basic" {};\n');
  return root;
}
const ROOT = fakeSystemRoot();
const SYSTEM = presetSystemUnder(ROOT);

const EVERY_STEP: ImagerChoices = {
  hostname: 'lab-pi-12', timezone: 'Europe/Berlin', keyboard: 'de', sshKeys: [KEY, KEY2],
  wifi: { ssid: 'Lab 3', password: 'correct horse battery', country: 'DE' },
};

function files(choices: ImagerChoices): ImagerFiles {
  const userData = imagerUserData(choices);
  const networkConfig = imagerNetworkConfig(choices);
  return { ...(userData ? { userData: Buffer.from(userData) } : {}), ...(networkConfig ? { networkConfig: Buffer.from(networkConfig) } : {}) };
}

test('Imager\'s files of every step: host name, time zone, keyboard, SSH keys and Wi-Fi (the WPA key it derived) become the image\'s keys', () => {
  const settings = readImagerSettings(files(EVERY_STEP), SYSTEM);
  assert.deepEqual(settings.problems, []);
  assert.equal(settings.hostname, 'lab-pi-12');
  assert.equal(settings.timezone, 'Europe/Berlin');
  assert.equal(settings.keyboard, 'de');
  assert.equal(settings.keyboardVariant, null);
  assert.deepEqual(settings.sshKeys, [KEY, KEY2]);
  const key = imagerWifiKey('correct horse battery', 'Lab 3');
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.deepEqual(settings.wifi, { ssid: 'Lab 3', password: key, hidden: false });
  // What Imager always writes with a host name or SSH, and a kiosk leaves out: said, not shown as a problem.
  assert.match(settings.notes.join('\n'), /packages are not installed/);
  assert.match(settings.notes.join('\n'), /runcmd are never run/);
});

test('Imager\'s account (name, password, sudo) is not used, and says so in the journal only', () => {
  const settings = readImagerSettings(files({ userName: 'alice', userPasswordCrypt: '$y$j9T$abcdefghijklmnop$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg', sshPasswordAuth: true }), SYSTEM);
  assert.deepEqual(settings.problems, []);
  assert.deepEqual(settings.sshKeys, []);
  assert.match(settings.notes.join('\n'), /user-data line \d+: the account password is not used/);
  assert.match(settings.notes.join('\n'), /SSH by password is not offered/);
});

test('an open Wi-Fi network joins without a password; a Wi-Fi name beyond ASCII keeps its UTF-8 bytes (Imager writes them as \\xHH)', () => {
  const open = readImagerSettings(files({ wifi: { ssid: 'Guest' } }), SYSTEM);
  assert.deepEqual(open.wifi, { ssid: 'Guest', password: '', hidden: false });
  const text = imagerNetworkConfig({ wifi: { ssid: 'Café 实验室', password: 'mot de passe' } });
  assert.match(text, /"Caf\\xc3\\xa9 \\xe5\\xae\\x9e/, 'the fixture escapes as Imager does');
  const settings = readImagerSettings({ networkConfig: Buffer.from(text) }, SYSTEM);
  assert.deepEqual(settings.problems, []);
  assert.equal(Buffer.from(settings.wifi!.ssid, 'latin1').toString('utf8'), 'Café 实验室');
  assert.equal(settings.wifi!.password, imagerWifiKey('mot de passe', 'Café 实验室'));
});

test('a hidden network is looked for by its name', () => {
  const settings = readImagerSettings(files({ wifi: { ssid: 'Hidden Lab', password: 'secret-password', hidden: true } }), SYSTEM);
  assert.deepEqual(settings.problems, []);
  assert.deepEqual(settings.wifi, { ssid: 'Hidden Lab', password: imagerWifiKey('secret-password', 'Hidden Lab'), hidden: true });
});

test('wrong values become sentences naming Imager\'s file and line, and are not applied', () => {
  const userData = imagerUserData({ hostname: 'bad_host!', timezone: 'Mars/Olympus_Mons', keyboard: 'xx', sshKeys: ['not a key'] });
  const settings = readImagerSettings({ userData: Buffer.from(userData) }, SYSTEM);
  assert.equal(settings.hostname, null);
  assert.equal(settings.timezone, null);
  assert.equal(settings.keyboard, null);
  assert.deepEqual(settings.sshKeys, []);
  assert.deepEqual(settings.problems, [
    'user-data line 4: hostname must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen (got "bad_host!")',
    'user-data line 14: timezone must be a time zone like Europe/Berlin or Asia/Shanghai (got "Mars/Olympus_Mons")',
    'user-data line 17: keyboard must be a keyboard layout like us, de, fr or cn (got "xx")',
    'user-data line 23: ssh_key must be one public key line like "ssh-ed25519 AAAA... me@laptop"',
  ]);
});

test('a user-data that is a script, or not YAML, applies nothing and says why; keys Imager never writes are problems', () => {
  const script = readImagerSettings({ userData: Buffer.from('#!/bin/sh\nrm -rf /\n') }, SYSTEM);
  assert.deepEqual(script.problems, ['user-data line 1: only a "#cloud-config" file is read (scripts are never run): none of it is applied']);
  const broken = readImagerSettings({ userData: Buffer.from('#cloud-config\nhostname: a\ntimezone: [Europe/Berlin\n') }, SYSTEM);
  assert.equal(broken.hostname, null);
  assert.match(broken.problems[0]!, /^user-data line \d+: not readable as YAML \(\w+\): none of it is applied$/);
  const unknown = readImagerSettings({ userData: Buffer.from('#cloud-config\nhostname: ok-host\nwrite_files:\n  - path: /etc/x\n') }, SYSTEM);
  assert.equal(unknown.hostname, 'ok-host');
  assert.deepEqual(unknown.problems, ['user-data line 3: "write_files" is not applied by thinkiosk (it takes hostname, timezone, keyboard and SSH keys)']);
  const wrongKey = readImagerSettings({ networkConfig: Buffer.from(imagerNetworkConfig({ wifi: { ssid: 'Lab', password: 'short' } })) }, SYSTEM);
  assert.equal(wrongKey.wifi, null, 'a wrong password: no Wi-Fi at all');
  assert.match(wrongKey.problems[0]!, /^network-config line 13: wifi_password must be 8 to 63 characters, or the 64 hex digits/);
});

test('thinkiosk.conf wins: a key it has a line for (right or wrong) is never taken from Imager\'s files', () => {
  const conf = ['controller = https://desktops.example.org', 'hostname = from-conf', 'keyboard = gb', 'timezone = Nowhere/Atlantis', ''].join('\n');
  const merged = withImagerSettings(readImageSettings(conf, 'thinkiosk.conf', SYSTEM), conf, readImagerSettings(files(EVERY_STEP), SYSTEM));
  assert.equal(merged.hostname, 'from-conf');
  assert.equal(merged.keyboard, 'gb');
  assert.equal(merged.timezone, null, 'the admin\'s wrong time zone line is a problem, and Imager\'s does not stand in for it');
  assert.deepEqual(merged.sshKeys, [KEY, KEY2], 'SSH keys: thinkiosk.conf has none, Imager\'s count');
  assert.equal(merged.wifi?.ssid, 'Lab 3');
  assert.deepEqual(merged.problems, ['thinkiosk.conf line 4: timezone must be a time zone like Europe/Berlin or Asia/Shanghai (got "Nowhere/Atlantis")']);
  assert.match(merged.notes.join('\n'), /Imager's host name is not used: thinkiosk\.conf sets it/);
  assert.match(merged.notes.join('\n'), /Imager's keyboard is not used/);
  const withKeys = `ssh_key = ${KEY2}\n`;
  assert.deepEqual(withImagerSettings(readImageSettings(withKeys, 'thinkiosk.conf', SYSTEM), withKeys, readImagerSettings(files(EVERY_STEP), SYSTEM)).sshKeys, [KEY2]);
});

test('apply-preset-cli settings --imager: Imager\'s files without a thinkiosk.conf, evaluated by sh as apply-preset does', () => {
  const boot = mkdtempSync(join(tmpdir(), 'thinkiosk-imager-boot-'));
  const choices: ImagerChoices = { ...EVERY_STEP, wifi: { ssid: "it's \"$(reboot)\"", password: 'pass`word` $HOME' } };
  writeFileSync(join(boot, 'user-data'), imagerUserData(choices));
  writeFileSync(join(boot, 'network-config'), imagerNetworkConfig(choices));
  writeFileSync(join(boot, 'meta-data'), 'instance-id: rpi-imager-1786000000000\n');
  const script = `settings=$(node "$1" settings --root "$2" --imager "$3" "$3/thinkiosk.conf") || exit 9; eval "$settings"
    printf '%s|%s|%s|%s|%s|%s|' "$preset_hostname" "$preset_timezone" "$preset_keyboard" "$preset_wifi_ssid" "$preset_wifi_password" "$preset_problems"; printf '%s' "$preset_ssh_keys" | wc -l`;
  const output = execFileSync('sh', ['-c', script, 'sh', CLI, ROOT, boot], { encoding: 'utf8' });
  assert.equal(output.trim(), `lab-pi-12|Europe/Berlin|de|it's "$(reboot)"|${imagerWifiKey('pass`word` $HOME', "it's \"$(reboot)\"")}||2`);
});
