/**
 * The image's first-boot settings step (rootfs-overlay/usr/lib/thinkiosk/apply-preset), run on
 * this machine against a directory tree (THINKIOSK_ROOT) instead of a booted image: valid values
 * are applied, wrong ones become sentences naming the line, and a plain admin PIN is replaced by
 * its hash in the file itself. The booted image runs the same script (test/image/image.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyPin } from '../../app/core/system/admin-pin.js';
import { parsePreset } from '../../app/core/preset.js';
import { REPO } from './appliance.js';
import { imagerNetworkConfig, imagerUserData, imagerWifiKey, type ImagerChoices } from '../support/imager-files.js';

const SCRIPT = join(REPO, 'rootfs-overlay/usr/lib/thinkiosk/apply-preset');

/** A minimal tree with what the script looks things up in (time zones, keyboard layouts). */
function fakeRoot(conf?: string | Buffer): string {
  const root = mkdtempSync(join(tmpdir(), 'thinkiosk-preset-'));
  for (const dir of ['boot/firmware', 'etc', 'usr/share/zoneinfo/Asia', 'usr/share/X11/xkb/symbols', 'var/lib/thinkiosk']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'usr/share/zoneinfo/Asia/Shanghai'), '');
  writeFileSync(join(root, 'usr/share/X11/xkb/symbols/de'), 'xkb_symbols "basic" {};\nxkb_symbols "nodeadkeys" {};\n');
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\tthinkiosk\n');
  writeFileSync(join(root, 'etc/hostname'), 'thinkiosk\n');
  if (conf !== undefined) writeFileSync(join(root, 'boot/firmware/thinkiosk.conf'), conf);
  return root;
}

function applyPreset(root: string): string {
  return execFileSync('sh', [SCRIPT], { env: { ...process.env, THINKIOSK_ROOT: root, THINKIOSK_APP: REPO }, encoding: 'utf8' });
}

const read = (root: string, path: string): string => readFileSync(join(root, path), 'utf8');

test('apply-preset: a valid file is applied (host name, time zone, keyboard, Wi-Fi, boot server, SSH) and reports no problem', () => {
  const root = fakeRoot([
    '# kiosk', 'controller = https://desktops.example.org', 'language = zh-CN', 'hostname = lab3-kiosk-07', 'timezone = Asia/Shanghai',
    'keyboard = de', 'keyboard_variant = nodeadkeys', 'wifi_ssid = "Lab 3"', 'wifi_password = correct horse', 'boot_server = on',
    'ssh_key = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9vEX1kBQ1W8YzW1d7FjvE1sFJxqg5vXbq0a3z6r2Xr admin@laptop', '',
  ].join('\n'));
  const output = applyPreset(root);
  assert.doesNotMatch(output, /PROBLEM/);
  // The boot server unit reads boot_server itself (test/pxe/boot-server.test.ts); here it is only reported.
  assert.match(output, /boot server on/);
  assert.equal(read(root, 'run/thinkiosk/preset-problems.txt'), '');
  assert.equal(read(root, 'etc/hostname'), 'lab3-kiosk-07\n');
  assert.match(read(root, 'etc/hosts'), /^127\.0\.1\.1\tlab3-kiosk-07$/m);
  assert.equal(readlinkSync(join(root, 'etc/localtime')), '/usr/share/zoneinfo/Asia/Shanghai');
  assert.equal(read(root, 'run/thinkiosk/kiosk.env'), 'XKB_DEFAULT_LAYOUT=de\nXKB_DEFAULT_VARIANT=nodeadkeys\n');
  const wifi = read(root, 'run/NetworkManager/system-connections/thinkiosk-preset-wifi.nmconnection');
  assert.match(wifi, /^ssid=Lab 3$/m);
  assert.match(wifi, /^psk=correct horse$/m);
  assert.ok(existsSync(join(root, 'run/thinkiosk/ssh.on')));
  assert.match(read(root, 'root/.ssh/authorized_keys'), /^ssh-ed25519 AAAA\S+ admin@laptop$/m);
  assert.ok(existsSync(join(root, 'var/lib/thinkiosk/ssh/ssh_host_ed25519_key')), 'a host key made for this card');
});

test('apply-preset: wrong values become sentences naming the line; nothing wrong is applied', () => {
  const root = fakeRoot([
    'hostname = bad_host!', 'timezone = Mars/Olympus_Mons', 'timezone = ../../etc/passwd', 'keyboard = klingon', 'boot_server = maybe',
    'wifi_password = short', 'ssh_key = not a key', 'frobnicate = 1', 'this line has no equals sign', 'language = fr', '',
  ].join('\n'));
  const output = applyPreset(root);
  assert.doesNotMatch(output, /boot server on/);
  const problems = read(root, 'run/thinkiosk/preset-problems.txt').trim().split('\n');
  assert.deepEqual(problems.map((line) => /^thinkiosk\.conf line (\d+):/.exec(line)?.[1]), ['1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.match(problems[0]!, /hostname must be/);
  assert.match(problems[1]!, /timezone must be a time zone like Europe\/Berlin/);
  assert.match(problems[3]!, /keyboard must be a keyboard layout/);
  assert.match(problems[4]!, /boot_server must be on or off/);
  assert.match(problems[5]!, /wifi_password must be 8 to 63 characters/);
  assert.match(problems[6]!, /ssh_key must be one public key line/);
  assert.match(problems[7]!, /unknown key "frobnicate"/);
  assert.match(problems[8]!, /is not of the form key = value/);
  assert.equal(read(root, 'etc/hostname'), 'thinkiosk\n');
  assert.ok(!existsSync(join(root, 'etc/localtime')));
  assert.ok(!existsSync(join(root, 'run/thinkiosk/ssh.on')), 'no SSH without a valid key');
});

test('apply-preset: a Wi-Fi password with quotes, $(...) and backticks reaches NetworkManager as written, and nothing in it runs', () => {
  const password = `it's "$(touch ran)" \`touch ran\` $HOME`;
  const root = fakeRoot(`wifi_ssid = "Lab '3'"\nwifi_password = ${password}\n`);
  execFileSync('sh', [SCRIPT], { env: { ...process.env, THINKIOSK_ROOT: root, THINKIOSK_APP: REPO }, cwd: root, encoding: 'utf8' });
  const wifi = read(root, 'run/NetworkManager/system-connections/thinkiosk-preset-wifi.nmconnection');
  assert.ok(wifi.split('\n').includes(`psk=${password}`), wifi);
  assert.ok(wifi.split('\n').includes('ssid=Lab \'3\''), wifi);
  assert.ok(!existsSync(join(root, 'ran')));
  assert.equal(read(root, 'run/thinkiosk/preset-problems.txt'), '');
});

test('apply-preset: a plain admin PIN is replaced by its scrypt hash in the file (Windows line ends and BOM kept readable)', async () => {
  const root = fakeRoot(Buffer.from('\uFEFFcontroller = https://d.example\r\nadmin_pin = 2468\r\nlanguage = en\r\n', 'utf8'));
  applyPreset(root);
  const conf = read(root, 'boot/firmware/thinkiosk.conf');
  const hash = /^admin_pin = (scrypt\$\S+)$/m.exec(conf)?.[1];
  assert.ok(hash, `hashed PIN line in: ${conf}`);
  assert.ok(await verifyPin('2468', hash));
  assert.match(conf, /controller = https:\/\/d\.example\r\n/, 'the other lines are untouched');
  assert.equal(read(root, 'run/thinkiosk/preset-problems.txt'), '');
  // A second boot leaves the hash as it is.
  applyPreset(root);
  assert.equal(read(root, 'boot/firmware/thinkiosk.conf'), conf);
});

test('apply-preset: no settings file means defaults and no problems', () => {
  const root = fakeRoot();
  assert.match(applyPreset(root), /no thinkiosk\.conf/);
  assert.equal(read(root, 'run/thinkiosk/preset-problems.txt'), '');
});

test('apply-preset: the kiosk gets its own keys, line for line, in a file only root and the kiosk\'s group read; never the Wi-Fi password or anything else of the boot partition', async () => {
  const conf = [
    '\uFEFFcontroller = https://desktops.example.org', 'wifi_ssid = Lab3', 'wifi_password = correct horse battery', 'admin_pin = 2468',
    '# a comment', 'language = fr', 'ssh_key = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9vEX1kBQ1W8YzW1d7FjvE1sFJxqg5vXbq0a3z6r2Xr admin@laptop',
    '  Idle_Logout_Minutes = 30', 'auto_connect = "Lab 3 PC 07"', 'hostname = lab3-kiosk-07', '',
  ].join('\r\n');
  const root = fakeRoot(conf);
  applyPreset(root);
  const file = join(root, 'run/thinkiosk/kiosk-preset.conf');
  assert.equal(statSync(file).mode & 0o777, 0o640, 'rw for root, r for the kiosk\'s group, nothing for others');
  const text = read(root, 'run/thinkiosk/kiosk-preset.conf');
  assert.doesNotMatch(text, /wifi|correct horse|ssh|hostname|2468/, `only the kiosk's keys:\n${text}`);
  const reading = parsePreset(text, 'thinkiosk.conf');
  assert.equal(reading.preset.controller, 'https://desktops.example.org', 'the first line, its byte-order mark and DOS line end aside');
  assert.equal(reading.preset.idleLogoutSeconds, 1800);
  assert.equal(reading.preset.autoConnect, 'Lab 3 PC 07');
  assert.ok(reading.preset.adminPinHash && await verifyPin('2468', reading.preset.adminPinHash), 'the PIN as the hash the first boot made');
  assert.deepEqual(reading.problems, ['thinkiosk.conf line 6: language must be en or zh-CN (got "fr")'], 'the kiosk\'s own mistakes keep their line numbers');

  // Edited later: the kiosk sees a different preset (it applies a preset again when it changed).
  writeFileSync(join(root, 'boot/firmware/thinkiosk.conf'), read(root, 'boot/firmware/thinkiosk.conf').replace('desktops.example.org', 'new.example.org'));
  applyPreset(root);
  const again = parsePreset(read(root, 'run/thinkiosk/kiosk-preset.conf'), 'thinkiosk.conf');
  assert.equal(again.preset.controller, 'https://new.example.org');
  assert.notEqual(again.fingerprint, reading.fingerprint);
});

test('apply-preset: a plain PIN that could not be hashed is not handed to the kiosk; no thinkiosk.conf, no kiosk preset', () => {
  const root = fakeRoot('controller = https://d.example\nadmin_pin = 2468\n');
  // An app that reads the preset (contract/) but cannot hash: its PIN module is missing.
  const app = join(root, 'app-without-pin-hashing');
  mkdirSync(join(app, 'dist'), { recursive: true });
  symlinkSync(join(REPO, 'dist/contract'), join(app, 'dist/contract'));
  execFileSync('sh', [SCRIPT], { env: { ...process.env, THINKIOSK_ROOT: root, THINKIOSK_APP: app }, encoding: 'utf8', stdio: 'pipe' });
  assert.equal(read(root, 'run/thinkiosk/kiosk-preset.conf'), 'controller = https://d.example\n\n');
  assert.match(read(root, 'run/thinkiosk/preset-problems.txt'), /line 2: the admin PIN could not be hashed/);
  const empty = fakeRoot();
  writeFileSync(join(empty, 'stale'), '');
  mkdirSync(join(empty, 'run/thinkiosk'), { recursive: true });
  writeFileSync(join(empty, 'run/thinkiosk/kiosk-preset.conf'), 'controller = https://old.example\n');
  applyPreset(empty);
  assert.ok(!existsSync(join(empty, 'run/thinkiosk/kiosk-preset.conf')), 'a preset of an earlier file is not left behind');
});

test('apply-preset: without the app to read thinkiosk.conf nothing of it is applied, and the problems say why', () => {
  const root = fakeRoot('hostname = lab3-kiosk-07\ncontroller = https://d.example\n');
  const output = execFileSync('sh', [SCRIPT], { env: { ...process.env, THINKIOSK_ROOT: root, THINKIOSK_APP: join(root, 'no-app') }, encoding: 'utf8', stdio: 'pipe' });
  assert.match(output, /PROBLEM thinkiosk\.conf could not be read by the kiosk app/);
  assert.match(read(root, 'run/thinkiosk/preset-problems.txt'), /^thinkiosk\.conf could not be read by the kiosk app in \S+no-app \(see the journal\): none of its settings is applied\n$/);
  assert.equal(read(root, 'etc/hostname'), 'thinkiosk\n');
  assert.ok(!existsSync(join(root, 'run/thinkiosk/kiosk-preset.conf')));
});

test('apply-preset: Raspberry Pi Imager\'s user-data and network-config without a thinkiosk.conf are applied; thinkiosk.conf, once there, wins', () => {
  const root = fakeRoot();
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9vEX1kBQ1W8YzW1d7FjvE1sFJxqg5vXbq0a3z6r2Xr admin@imager';
  const choices: ImagerChoices = { hostname: 'imager-pi', timezone: 'Asia/Shanghai', keyboard: 'de', sshKeys: [key], wifi: { ssid: 'Lab 3', password: 'correct horse', country: 'DE', hidden: true } };
  writeFileSync(join(root, 'boot/firmware/user-data'), imagerUserData(choices));
  writeFileSync(join(root, 'boot/firmware/network-config'), imagerNetworkConfig(choices));
  const output = applyPreset(root);
  assert.doesNotMatch(output, /PROBLEM/);
  assert.match(output, /settings from Raspberry Pi Imager/);
  assert.match(output, /thinkiosk-preset: user-data line \d+: commands in runcmd are never run/, 'what is left out is said in the journal');
  assert.equal(read(root, 'etc/hostname'), 'imager-pi\n');
  assert.equal(readlinkSync(join(root, 'etc/localtime')), '/usr/share/zoneinfo/Asia/Shanghai');
  assert.equal(read(root, 'run/thinkiosk/kiosk.env'), 'XKB_DEFAULT_LAYOUT=de\n');
  assert.equal(read(root, 'root/.ssh/authorized_keys'), `${key}\n`);
  const wifi = read(root, 'run/NetworkManager/system-connections/thinkiosk-preset-wifi.nmconnection');
  assert.match(wifi, /^ssid=Lab 3\nhidden=true$/m, 'a network Imager was told is hidden is looked for by name');
  assert.equal(/^psk=(.*)$/m.exec(wifi)?.[1], imagerWifiKey('correct horse', 'Lab 3'), 'the WPA key Imager derived, as NetworkManager takes it');
  assert.equal(existsSync(join(root, 'run/thinkiosk/kiosk-preset.conf')), false, 'no thinkiosk.conf: the kiosk has no preset of its own keys');

  writeFileSync(join(root, 'boot/firmware/thinkiosk.conf'), 'hostname = from-conf\nwifi_ssid = Other\nwifi_password = other-password\n');
  const again = applyPreset(root);
  assert.match(again, /Imager's host name is not used: thinkiosk\.conf sets it/);
  assert.equal(read(root, 'etc/hostname'), 'from-conf\n');
  const confWifi = read(root, 'run/NetworkManager/system-connections/thinkiosk-preset-wifi.nmconnection');
  assert.match(confWifi, /^ssid=Other$/m);
  assert.doesNotMatch(confWifi, /hidden/);
  assert.match(confWifi, /^psk=other-password$/m, 'thinkiosk.conf\'s network with its own password, never Imager\'s key');
  assert.equal(readlinkSync(join(root, 'etc/localtime')), '/usr/share/zoneinfo/Asia/Shanghai', 'what thinkiosk.conf does not set still comes from Imager');
});

test('apply-preset: unchanged files on the same image are applied again without starting the app; any change, an update or a kept answer root did not write asks the app again', () => {
  const conf = 'controller = https://d.example\nhostname = lab3-kiosk-07\nwifi_ssid = Lab3\nwifi_password = correct horse\ntimezone = Mars/Olympus_Mons\n';
  const root = fakeRoot(conf);
  writeFileSync(join(root, 'etc/thinkiosk-release'), 'thinkiosk 0.1.0 arm64 (key-1)\n');
  const noApp = join(root, 'no-app');
  const run = (app: string): string => execFileSync('sh', [SCRIPT], { env: { ...process.env, THINKIOSK_ROOT: root, THINKIOSK_APP: app }, encoding: 'utf8', stdio: 'pipe' });
  const applied = (): string[] => ['etc/hostname', 'run/thinkiosk/kiosk-preset.conf', 'run/thinkiosk/preset-problems.txt', 'run/NetworkManager/system-connections/thinkiosk-preset-wifi.nmconnection'].map((path) => read(root, path));
  const reset = (): void => { for (const path of ['etc/hostname', 'run/thinkiosk/kiosk-preset.conf', 'run/thinkiosk/preset-problems.txt']) writeFileSync(join(root, path), 'stale\n'); };

  assert.doesNotMatch(run(REPO), /unchanged since an earlier boot/);
  const first = applied();
  assert.match(first[2]!, /line 5: timezone must be/);
  const kept = join(root, 'var/lib/thinkiosk/preset-checked');
  assert.equal(statSync(kept).mode & 0o777, 0o600, 'it holds the Wi-Fi password: root\'s alone');

  // The next boot: the app is not even there, and everything is applied as before.
  reset();
  assert.match(run(noApp), /unchanged since an earlier boot/);
  assert.deepEqual(applied(), first);

  // A kept answer someone else could have written is not used.
  execFileSync('chmod', ['0644', kept]);
  assert.match(run(noApp), /PROBLEM thinkiosk\.conf could not be read by the kiosk app/);
  run(REPO);
  assert.match(run(noApp), /unchanged since an earlier boot/);

  // An edited file, or an updated image (its rules may have changed), is checked by the app again.
  writeFileSync(join(root, 'boot/firmware/thinkiosk.conf'), conf.replace('lab3-kiosk-07', 'lab3-kiosk-08'));
  assert.match(run(noApp), /PROBLEM thinkiosk\.conf could not be read/);
  run(REPO);
  assert.equal(read(root, 'etc/hostname'), 'lab3-kiosk-08\n');
  writeFileSync(join(root, 'etc/thinkiosk-release'), 'thinkiosk 0.1.1 arm64 (key-2)\n');
  assert.match(run(noApp), /PROBLEM thinkiosk\.conf could not be read/);

  // A plain PIN is never kept: that boot hashes it, and the next boot asks the app about the new file.
  writeFileSync(join(root, 'boot/firmware/thinkiosk.conf'), `${conf}admin_pin = 2468\n`);
  run(REPO);
  assert.doesNotMatch(readFileSync(kept, 'utf8'), /2468/);
  assert.doesNotMatch(run(REPO), /unchanged since an earlier boot/, 'the file with the hash is new');
  assert.match(readFileSync(kept, 'utf8'), /scrypt/);
  assert.match(run(noApp), /unchanged since an earlier boot/);
});
