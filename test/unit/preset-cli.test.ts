/**
 * The schema's command for the image's boot step (contract/preset/apply-preset-cli.ts): what it
 * prints is assigned by sh's eval as literal text, whatever the admin typed; the kiosk's lines keep
 * their line numbers; the file's bytes reach the shell unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from '../image/appliance.js';

const CLI = join(REPO, 'dist/contract/preset/apply-preset-cli.js');

function presetFile(content: string | Buffer): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'thinkiosk-preset-cli-'));
  const file = join(dir, 'thinkiosk.conf');
  writeFileSync(file, content);
  return { dir, file };
}

/** The CLI's settings, evaluated by sh as apply-preset does, each variable printed back as hex. */
function settingsInShell(file: string, root: string): Record<string, Buffer> {
  const script = `settings=$(node "$1" settings --root "$2" "$3") || exit 9; eval "$settings"
    for name in hostname timezone keyboard keyboard_variant wifi_ssid wifi_password boot_server ssh_keys pin_line pin problems; do
      eval "value=\\$preset_$name"; printf '%s=' "$name"; printf '%s' "$value" | od -An -tx1 | tr -d ' \\n'; echo
    done`;
  const output = execFileSync('sh', ['-c', script, 'sh', CLI, root, file], { encoding: 'utf8', cwd: dirname(file) });
  return Object.fromEntries(output.trim().split('\n').map((line) => {
    const [name, hex] = line.split('=') as [string, string];
    return [name, Buffer.from(hex, 'hex')];
  }));
}

test('preset CLI: a Wi-Fi name and password with quotes, $(...), backticks and backslashes stay literal in the shell', () => {
  // Within 63 bytes, or the password is refused before it reaches the shell. The shell runs in dir.
  const password = `it's "$(touch a)" \`touch b\` \\n $HOME;'`;
  const ssid = `Lab '3' $(touch c)`;
  const { dir, file } = presetFile(`wifi_ssid = "${ssid}"\nwifi_password = ${password}\nhostname = it's-$(bad)\n`);
  const values = settingsInShell(file, dir);
  for (const marker of ['a', 'b', 'c']) assert.ok(!existsSync(join(dir, marker)), 'nothing in a value was run');
  assert.equal(values.wifi_ssid!.toString(), ssid);
  assert.equal(values.wifi_password!.toString(), password);
  assert.equal(values.hostname!.toString(), '');
  assert.equal(values.problems!.toString(), 'thinkiosk.conf line 3: hostname must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen (got "it\'s-$(bad)")\n');
});

test('preset CLI: several SSH keys and problems come through as lines; a plain PIN is named with its line', () => {
  const key = (name: string): string => `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9vEX1kBQ1W8YzW1d7FjvE1sFJxqg5vXbq0a3z6r2Xr ${name}`;
  const { dir, file } = presetFile([`ssh_key = ${key('a@one')}`, 'frobnicate = 1', `ssh_key = ${key('b@two')}`, 'admin_pin = 2468', 'boot_server = yes', ''].join('\r\n'));
  const values = settingsInShell(file, dir);
  assert.equal(values.ssh_keys!.toString(), `${key('a@one')}\n${key('b@two')}\n`);
  assert.match(values.problems!.toString(), /^thinkiosk\.conf line 2: unknown key "frobnicate" \(known: controller, language, admin_pin, idle_logout_minutes, auto_connect, usb_redirection, fleet_token, hostname, timezone, keyboard, keyboard_variant, wifi_ssid, wifi_password, boot_server, update_version, update_url, update_allow_downgrade, update_trial_minutes, ssh_key\)\n$/);
  assert.equal(values.pin_line!.toString(), '4');
  assert.equal(values.pin!.toString(), '2468');
  assert.equal(values.boot_server!.toString(), 'on');
});

test('preset CLI: time zones and keyboard layouts are looked up under --root; a variant must be one of the layout\'s', () => {
  const { dir, file } = presetFile('timezone = Asia/Shanghai\ntimezone = Mars/Olympus_Mons\nkeyboard = de\nkeyboard_variant = nodeadkeys\n');
  mkdirSync(join(dir, 'usr/share/zoneinfo/Asia'), { recursive: true });
  writeFileSync(join(dir, 'usr/share/zoneinfo/Asia/Shanghai'), '');
  mkdirSync(join(dir, 'usr/share/X11/xkb/symbols'), { recursive: true });
  writeFileSync(join(dir, 'usr/share/X11/xkb/symbols/de'), 'xkb_symbols "basic" {};\nxkb_symbols "nodeadkeys" {};\n');
  const values = settingsInShell(file, dir);
  assert.equal(values.timezone!.toString(), 'Asia/Shanghai', 'the last good line wins');
  assert.equal(values.keyboard_variant!.toString(), 'nodeadkeys');
  writeFileSync(file, 'keyboard = de\nkeyboard_variant = dvorak\n');
  assert.equal(settingsInShell(file, dir).problems!.toString(), 'thinkiosk.conf line 2: keyboard_variant "dvorak" is not a variant of the de layout\n');
  writeFileSync(file, 'keyboard_variant = nodeadkeys\n');
  assert.equal(settingsInShell(file, '/nonexistent').problems!.toString(), 'thinkiosk.conf line 1: keyboard_variant needs a valid keyboard line too\n');
});

test('preset CLI: a Wi-Fi password in another encoding than UTF-8 reaches the shell byte for byte; a wrong last password line means no Wi-Fi', () => {
  const latin1Password = Buffer.from('passwörd-ä', 'latin1');
  const { dir, file } = presetFile(Buffer.concat([Buffer.from('\xEF\xBB\xBFwifi_ssid = Lab\r\nwifi_password = ', 'latin1'), latin1Password, Buffer.from('\r\n')]));
  const values = settingsInShell(file, dir);
  assert.deepEqual(values.wifi_password, latin1Password);
  assert.equal(values.wifi_ssid!.toString(), 'Lab', 'the byte-order mark is not part of the first key');
  writeFileSync(file, 'wifi_ssid = Lab\nwifi_password = correct horse\nwifi_password = short\n');
  const wrong = settingsInShell(file, dir);
  assert.equal(wrong.wifi_ssid!.toString(), '', 'no connection is written');
  assert.equal(wrong.problems!.toString(), 'thinkiosk.conf line 3: wifi_password must be 8 to 63 characters, or the 64 hex digits of a WPA key (or empty for an open network)\n');
});

test('preset CLI: kiosk-lines keeps the kiosk\'s lines at their line numbers, a PIN only as a hash, the file\'s bytes unchanged', () => {
  const { file } = presetFile(Buffer.from('\uFEFFcontroller = https://d.example\r\nwifi_password = secret-password\r\nadmin_pin = 2468\r\n\r\nadmin_pin = "scrypt$1$2$3$a$b"\r\nauto_connect = Lab PC ü\r\nno equals sign', 'utf8'));
  const lines = execFileSync('node', [CLI, 'kiosk-lines', file]);
  assert.deepEqual(lines, Buffer.from('controller = https://d.example\n\n\n\nadmin_pin = "scrypt$1$2$3$a$b"\nauto_connect = Lab PC ü\n\n', 'utf8'));
  assert.equal(execFileSync('node', [CLI, 'kiosk-lines', presetFile('').file], { encoding: 'utf8' }), '', 'an empty file, no lines');
});

test('preset CLI: a file it cannot read, or a wrong call, is exit status 2 with a sentence', () => {
  const fail = (args: string[]): string => {
    try {
      execFileSync('node', [CLI, ...args], { stdio: 'pipe' });
    } catch (error) {
      const { status, stderr } = error as { status: number; stderr: Buffer };
      assert.equal(status, 2);
      return stderr.toString();
    }
    assert.fail('expected a failure');
  };
  assert.match(fail(['settings', '/nonexistent/thinkiosk.conf']), /^apply-preset-cli: ENOENT/);
  assert.match(fail(['frobnicate', presetFile('').file]), /unknown command "frobnicate"/);
  assert.match(fail(['settings']), /usage:/);
});
