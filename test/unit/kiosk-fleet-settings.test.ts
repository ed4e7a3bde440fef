/**
 * Settings from the fleet (app/core/fleet/fleet-settings.ts) as the kiosk applies them: its own keys
 * into its settings at once, the image's keys into fleet-image-preset.conf for the next boot (and
 * apply-preset reading that file, on this machine against a directory tree), a new controller
 * address only once it answers as a controller (the real controller with its static backend, in
 * process on 127.0.0.1:16320; nothing answers on :16321), wrong values refused with the preset
 * rule's sentence, and the last good copy applied at start before any check-in.
 *
 * Stand-ins, named as such: the auto_connect and boot server setters record what they were given.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SettingValues, type FleetSettings } from '../../contract/fleet.js';
import { presetSystemUnder } from '../../contract/preset/preset-system.js';
import { ControllerClient } from '../../app/core/controller-client.js';
import { FleetFiles } from '../../app/core/fleet/fleet-files.js';
import { applyFleetSettings, type SettingsTarget } from '../../app/core/fleet/fleet-settings.js';
import type { KioskPreset } from '../../app/core/preset.js';
import { Settings } from '../../app/core/settings.js';
import { hashPin } from '../../app/core/system/admin-pin.js';
import { fleetAgent } from '../support/fleet-agent.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const CLI = path.join(REPO, 'dist/contract/preset/apply-preset-cli.js');
const SCRIPT = path.join(REPO, 'rootfs-overlay/usr/lib/thinkiosk/apply-preset');
const NOBODY = 'http://127.0.0.1:16321';

let work: string;
let ctl: StaticController;
let pinHash: string;
let systemRoot: string;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-fleet-settings-'));
  ctl = await startStaticController({ workDir: mkdtempSync(path.join(work, 'ctl-')), port: 16320, inventory: 'users: []\ndesktops: []\n' });
  pinHash = await hashPin('86420975');
  systemRoot = fakeSystemRoot();
});
after(async () => {
  await ctl?.close();
  rmSync(work, { recursive: true, force: true });
});

/** What apply-preset and the kiosk look time zones and keyboard layouts up in. */
function fakeSystemRoot(): string {
  const root = mkdtempSync(path.join(work, 'system-'));
  for (const dir of ['boot/firmware', 'etc', 'usr/share/zoneinfo/Asia', 'usr/share/zoneinfo/Europe', 'usr/share/X11/xkb/symbols', 'var/lib/thinkiosk/settings']) mkdirSync(path.join(root, dir), { recursive: true });
  writeFileSync(path.join(root, 'usr/share/zoneinfo/Asia/Shanghai'), '');
  writeFileSync(path.join(root, 'usr/share/zoneinfo/Europe/Berlin'), '');
  writeFileSync(path.join(root, 'usr/share/X11/xkb/symbols/de'), 'xkb_symbols "basic" {};\nxkb_symbols "nodeadkeys" {};\n');
  writeFileSync(path.join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\tthinkiosk\n');
  writeFileSync(path.join(root, 'etc/hostname'), 'thinkiosk\n');
  return root;
}

interface Target extends SettingsTarget {
  autoConnect: (string | null)[];
  bootServer: boolean[];
  imageText: string | null;
  boot: { readThisBoot: boolean; problems: string[] };
}

function target(options: { controllerUrl?: string; bootPreset?: KioskPreset } = {}): Target {
  const settings = new Settings(mkdtempSync(path.join(work, 'kiosk-')));
  if (options.controllerUrl) settings.update({ controllerUrl: options.controllerUrl });
  const t: Target = {
    settings, bootPreset: options.bootPreset ?? {}, autoConnect: [], bootServer: [], imageText: null, boot: { readThisBoot: false, problems: [] },
    setAutoConnect: (value) => void t.autoConnect.push(value),
    setBootServer: async (enabled) => void t.bootServer.push(enabled),
    probeController: (url) => new ControllerClient(url, { retries: 0, timeoutMs: 3000 }).identity(),
    system: presetSystemUnder(systemRoot),
    readImagePreset: () => t.imageText,
    writeImagePreset: (text) => { t.imageText = text; },
    imagePresetBoot: () => t.boot,
    avoidController: () => null,
  };
  return t;
}

const fleet = (values: Record<string, string>, revision = 'r1'): FleetSettings => ({ revision, values, sources: Object.fromEntries(Object.keys(values).map((key) => [key, 'site'])) });

test('[kiosk] fleet settings: the kiosk\'s own keys apply at once (language, PIN hash, idle logout, USB redirection, auto-connect, boot server)', async () => {
  const t = target({ controllerUrl: ctl.url });
  const { applied } = await applyFleetSettings(fleet({
    language: 'zh-CN', admin_pin: pinHash, idle_logout_minutes: '30', usb_redirection: 'off', auto_connect: 'lab3-pc07', boot_server: 'on',
  }), null, t, new Date('2026-12-06T10:00:00Z'));
  assert.deepEqual(applied, {
    revision: 'r1', at: '2026-12-06T10:00:00.000Z', problems: [],
    keys: { language: 'applied', admin_pin: 'applied', idle_logout_minutes: 'applied', usb_redirection: 'applied', auto_connect: 'applied', boot_server: 'applied' },
  });
  const stored = t.settings.read();
  assert.equal(stored.language, 'zh-CN');
  assert.equal(stored.adminPinHash, pinHash);
  assert.equal(stored.idleLogoutSeconds, 1800);
  assert.equal(stored.nativeSpiceForUsb, false);
  assert.deepEqual(t.autoConnect, ['lab3-pc07']);
  assert.deepEqual(t.bootServer, [true]);
  assert.equal(t.imageText, null, 'no image keys: no file');
});

test('[kiosk] fleet settings: a new controller address is taken once it answers as a controller; one that does not answer is refused and the kiosk stays', async () => {
  const t = target({ controllerUrl: NOBODY });
  const moved = await applyFleetSettings(fleet({ controller: ctl.url }), null, t);
  assert.equal(moved.applied.keys.controller, 'applied');
  assert.equal(moved.controllerChanged, true);
  assert.equal(t.settings.read().controllerUrl, `${ctl.url}/`);
  assert.equal(t.settings.read().controllerName, 'Static test site');

  const stranded = await applyFleetSettings(fleet({ controller: NOBODY }, 'r2'), null, t);
  assert.equal(stranded.applied.keys.controller, 'rejected');
  assert.equal(stranded.controllerChanged, false);
  assert.match(stranded.applied.problems[0]!, /^controller http:\/\/127\.0\.0\.1:16321\/ was not taken: The controller at 127\.0\.0\.1:16321 cannot be reached.* The kiosk stays with http:\/\/127\.0\.0\.1:16320\/\.$/);
  assert.equal(t.settings.read().controllerUrl, `${ctl.url}/`);
});

test('[kiosk] fleet settings: wrong values are refused with the preset rule\'s sentence; the rest still applies', async () => {
  const t = target();
  // Past the contract's check (which refuses these too), as a controller of another version might send them.
  const { applied } = await applyFleetSettings(fleet({
    idle_logout_minutes: '99999', language: 'fr', timezone: 'Mars/Olympus_Mons', admin_pin: '1234', hostname: 'lab3-kiosk-07', keyboard_variant: 'nodeadkeys',
  }), null, t);
  assert.deepEqual(applied.keys, { idle_logout_minutes: 'rejected', language: 'rejected', admin_pin: 'rejected', timezone: 'rejected', keyboard_variant: 'rejected', hostname: 'next-boot' });
  assert.deepEqual(applied.problems, [
    'language must be en or zh-CN (got "fr")',
    'admin_pin must be stored as its hash',
    'idle_logout_minutes must be a whole number from 0 (never) to 1440',
    'timezone must be a time zone like Europe/Berlin or Asia/Shanghai (got "Mars/Olympus_Mons")',
    'keyboard_variant needs a keyboard from the fleet too',
  ]);
  assert.equal(t.settings.read().idleLogoutSeconds, 900, 'unchanged');
  // The contract itself refuses a value no line of thinkiosk.conf could hold.
  const parsed = SettingValues.safeParse({ wifi_ssid: 'Lab 3\nssh_key = ssh-ed25519 AAAA' });
  assert.equal(parsed.success, false);
  assert.match(parsed.error!.issues[0]!.message, /wifi_ssid must be one line/);
});

test('[kiosk] fleet settings: ssh_key is refused — the kiosk\'s own file must not give root\'s SSH', async () => {
  const t = target();
  const { applied } = await applyFleetSettings(fleet({ ssh_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9vEX1kBQ1W8YzW1d7FjvE1sFJxqg5vXbq0a3z6r2Xr admin@laptop' }), null, t);
  assert.deepEqual(applied.keys, { ssh_key: 'rejected' });
  assert.match(applied.problems[0]!, /put ssh_key in thinkiosk\.conf on the boot partition/);
  assert.equal(t.imageText, null);
});

test('[kiosk] fleet settings: the image\'s keys go to the fleet preset file (next boot), then count as applied once a boot has read it, or refused in apply-preset\'s words', async () => {
  const t = target();
  const values = { hostname: 'lab3-kiosk-07', timezone: 'Asia/Shanghai', keyboard: 'de', keyboard_variant: 'nodeadkeys', wifi_ssid: ' Lab 3 ', wifi_password: 'say "hi" $(reboot)' };
  const first = await applyFleetSettings(fleet(values), null, t);
  assert.deepEqual(first.applied.keys, { hostname: 'next-boot', timezone: 'next-boot', keyboard: 'next-boot', keyboard_variant: 'next-boot', wifi_ssid: 'next-boot', wifi_password: 'next-boot' });
  assert.match(t.imageText!, /^hostname = "lab3-kiosk-07"$/m);
  assert.match(t.imageText!, /^wifi_ssid = " Lab 3 "$/m);

  // The next boot read it: the same keys again are applied now (a new revision with the same keys changes no file).
  const written = t.imageText;
  t.boot = { readThisBoot: true, problems: [] };
  const later = await applyFleetSettings(fleet(values, 'r2'), null, t);
  assert.equal(t.imageText, written, 'the file is not rewritten for the same keys');
  assert.ok(Object.values(later.applied.keys).every((outcome) => outcome === 'applied'));

  // That boot's apply-preset refused a line of the file: the key is refused with its sentence.
  t.boot = { readThisBoot: true, problems: ['fleet-image-preset.conf line 6: keyboard_variant "nodeadkeys" is not a variant of the de layout'] };
  const refused = await applyFleetSettings(fleet(values, 'r3'), null, t);
  assert.equal(refused.applied.keys.keyboard_variant, 'rejected');
  assert.deepEqual(refused.applied.problems, ['keyboard_variant "nodeadkeys" is not a variant of the de layout']);
});

test('[kiosk] fleet settings: a key the fleet stops setting goes back to the boot partition\'s value', async () => {
  const t = target({ bootPreset: { language: 'en', idleLogoutSeconds: 600, autoConnect: 'front-desk' } });
  const before = fleet({ language: 'zh-CN', idle_logout_minutes: '30', auto_connect: 'lab3-pc07', hostname: 'lab3-kiosk-07' });
  await applyFleetSettings(before, null, t);
  assert.equal(t.settings.read().language, 'zh-CN');
  const { applied } = await applyFleetSettings(fleet({}, 'r2'), before, t);
  assert.deepEqual(applied.keys, {});
  assert.equal(t.settings.read().language, 'en');
  assert.equal(t.settings.read().idleLogoutSeconds, 600);
  assert.deepEqual(t.autoConnect, ['lab3-pc07', 'front-desk']);
  assert.equal(t.imageText, null, 'no image keys left: the file is removed');
});

test('[kiosk] fleet settings: apply-preset applies the fleet\'s image keys over thinkiosk.conf\'s, never ssh_key from there, and never reads the file through a link', () => {
  const root = fakeSystemRoot();
  writeFileSync(path.join(root, 'boot/firmware/thinkiosk.conf'), 'hostname = card-name\ntimezone = Europe/Berlin\nkeyboard = de\nkeyboard_variant = nodeadkeys\n');
  const fleetFile = path.join(root, 'var/lib/thinkiosk/settings/fleet-image-preset.conf');
  writeFileSync(fleetFile, '# from the fleet\nhostname = "lab3-kiosk-07"\nkeyboard = "us"\nwifi_ssid = " Lab 3 "\nwifi_password = "correct horse"\nssh_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE9vEX1kBQ1W8YzW1d7FjvE1sFJxqg5vXbq0a3z6r2Xr x"\n');
  writeFileSync(path.join(root, 'usr/share/X11/xkb/symbols/us'), 'xkb_symbols "basic" {};\n');
  const run = (): string => execFileSync('sh', [SCRIPT], { env: { ...process.env, THINKIOSK_ROOT: root, THINKIOSK_APP: REPO }, encoding: 'utf8' });
  const output = run();
  assert.match(output, /settings from the fleet/);
  assert.equal(readFileSync(path.join(root, 'etc/hostname'), 'utf8'), 'lab3-kiosk-07\n', 'the fleet wins');
  assert.equal(readFileSync(path.join(root, 'etc/timezone'), 'utf8'), 'Europe/Berlin\n', 'a key the fleet does not set: thinkiosk.conf\'s');
  assert.equal(readFileSync(path.join(root, 'run/thinkiosk/kiosk.env'), 'utf8'), 'XKB_DEFAULT_LAYOUT=us\n', 'the layout and its variant go together');
  assert.match(readFileSync(path.join(root, 'run/NetworkManager/system-connections/thinkiosk-preset-wifi.nmconnection'), 'utf8'), /^ssid= Lab 3 $/m);
  assert.ok(!existsSync(path.join(root, 'root/.ssh/authorized_keys')), 'no SSH key from the kiosk\'s file');
  assert.match(readFileSync(path.join(root, 'run/thinkiosk/preset-problems.txt'), 'utf8'), /^fleet-image-preset\.conf line 6: ssh_key is not taken from the fleet's file/m);

  // A link where the file should be (the kiosk user owns that directory): only thinkiosk.conf applies.
  rmSync(fleetFile);
  writeFileSync(path.join(root, 'secret'), 'root-only = words\n');
  symlinkSync(path.join(root, 'secret'), fleetFile);
  run();
  assert.equal(readFileSync(path.join(root, 'etc/hostname'), 'utf8'), 'card-name\n');
  assert.doesNotMatch(readFileSync(path.join(root, 'run/thinkiosk/preset-problems.txt'), 'utf8'), /root-only/);
  assert.throws(() => execFileSync('node', [CLI, 'settings', '--fleet', fleetFile, path.join(root, 'boot/firmware/thinkiosk.conf')], { stdio: 'pipe' }), /ELOOP|not a regular file/);

  // No thinkiosk.conf at all: the fleet's keys still apply.
  rmSync(fleetFile);
  rmSync(path.join(root, 'boot/firmware/thinkiosk.conf'));
  writeFileSync(fleetFile, 'timezone = "Asia/Shanghai"\n');
  run();
  assert.equal(readFileSync(path.join(root, 'etc/timezone'), 'utf8'), 'Asia/Shanghai\n');
  assert.ok(!existsSync(path.join(root, 'run/thinkiosk/kiosk-preset.conf')), 'no thinkiosk.conf: no kiosk preset');
});

test('[kiosk] fleet agent: the last good settings are applied at start, before any check-in (the controller does not answer); the files are the kiosk\'s alone', async () => {
  const k = fleetAgent({
    parentDir: work, preset: { controllerUrl: NOBODY },
    prepare: (files: FleetFiles) => files.updateState({
      lastGood: { settings: fleet({ language: 'zh-CN', idle_logout_minutes: '5', hostname: 'lab3-kiosk-07' }, 'kept-r7'), receivedAt: '2026-12-05T08:00:00.000Z' },
    }),
  });
  await k.agent.start();
  assert.equal(k.settings.read().language, 'zh-CN');
  assert.equal(k.settings.read().idleLogoutSeconds, 300);
  const state = k.files.readState();
  assert.equal(state.applied?.revision, 'kept-r7');
  assert.deepEqual(state.applied?.keys, { language: 'applied', idle_logout_minutes: 'applied', hostname: 'next-boot' });
  assert.equal(statSync(k.files.path('state.json')).mode & 0o777, 0o600);
  assert.equal(statSync(k.files.dir).mode & 0o777, 0o700);
  assert.equal(statSync(k.files.imagePresetPath).mode & 0o777, 0o600);
  assert.equal(k.agent.status().revision, 'kept-r7');
  assert.ok(k.events.some((event) => event.type === 'settings-changed'), 'the page is told to read its state again');
  await k.agent.close();
});
