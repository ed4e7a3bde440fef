// The browser shell's Chromium: its command line (readable by every local user: no secret on it),
// the fresh profile each launch gets (the kiosk's preferences, the page's address), and that a
// profile goes without a trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, hasGpuRenderNode } from '../../app/shell/chromium-args.js';
import { createProfile, kioskPreferences, PROFILE_PREFIX, removeProfile } from '../../app/shell/chromium-profile.js';

const ORIGIN = 'http://127.0.0.1:43210';
const START = `${ORIGIN}/#boot=one-time-token-value`;

test('[shell] Chromium\'s command line has no address, token or key, and no debugging port', () => {
  const profile = '/tmp/thinkiosk-chromium-abc123';
  for (const windowed of [false, true]) {
    const args = chromiumArgs({ profile, windowed, bareScreen: { width: 1280, height: 800 }, runningAsRoot: false, gpu: true });
    const line = args.join(' ');
    assert.doesNotMatch(line, /127\.0\.0\.1|#|boot=|key=|--app/, line);
    assert.doesNotMatch(line, /--remote-debugging-port/);
    assert.ok(args.includes('--remote-debugging-pipe'), 'steered over the pipe only the parent holds');
    assert.ok(args.includes(`--user-data-dir=${profile}`));
    for (const flag of ['--disable-sync', '--disable-extensions', '--no-first-run', '--password-store=basic']) assert.ok(args.includes(flag), flag);
    assert.equal(args.includes('--no-sandbox'), false, 'the sandbox stays on unless Chromium runs as root');
    assert.equal(args.includes('--kiosk'), !windowed);
  }
  assert.ok(chromiumArgs({ profile, windowed: false, bareScreen: null, runningAsRoot: true, gpu: true }).includes('--no-sandbox'));
});

test('[shell] Chromium starts without what the kiosk never shows, and without a GPU where there is none', (t) => {
  const base = { profile: '/tmp/thinkiosk-chromium-abc123', windowed: false, bareScreen: null, runningAsRoot: false };
  const features = chromiumArgs({ ...base, gpu: true }).filter((arg) => arg.startsWith('--disable-features='));
  assert.equal(features.length, 1, 'Chromium reads only the last --disable-features');
  for (const feature of ['WebUIOmniboxPopup', 'SpareRendererForSitePerProcess', 'Translate']) assert.ok(features[0]!.split(/[=,]/).includes(feature), feature);
  assert.equal(chromiumArgs({ ...base, gpu: true }).includes('--disable-gpu'), false);
  assert.ok(chromiumArgs({ ...base, gpu: false }).includes('--disable-gpu'));
  const dri = mkdtempSync(join(tmpdir(), 'thinkiosk-unit-dri-'));
  t.after(() => rmSync(dri, { recursive: true, force: true }));
  assert.equal(hasGpuRenderNode(join(dri, 'missing')), false);
  writeFileSync(join(dri, 'card0'), '');
  assert.equal(hasGpuRenderNode(dri), false, 'a display card without a render node');
  writeFileSync(join(dri, 'renderD128'), '');
  assert.equal(hasGpuRenderNode(dri), true);
});

test('[shell] a launch\'s profile is private and holds the kiosk\'s preferences and the page\'s address', (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'thinkiosk-unit-profile-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dir = createProfile(START, ORIGIN, parent);
  assert.ok(dir.startsWith(join(parent, PROFILE_PREFIX)));
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'only the kiosk user can read the token in it');
  const file = join(dir, 'Default', 'Preferences');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const text = readFileSync(file, 'utf8');
  const prefs = JSON.parse(text);
  assert.deepEqual(prefs.session, { restore_on_startup: 4, startup_urls: [START] });
  assert.equal(prefs.credentials_enable_service, false, 'no "Save password?"');
  assert.equal(prefs.credentials_enable_autosignin, false);
  assert.deepEqual(prefs.autofill, { profile_enabled: false, credit_card_enabled: false, enabled: false });
  assert.equal(prefs.signin.allowed, false, 'no "Sign in to Chromium"');
  assert.equal(prefs.devtools.availability, 2);
  assert.equal(prefs.download_restrictions, 3);
  assert.equal(prefs.printing.enabled, false);
  assert.equal(prefs.incognito.mode_availability, 1);
  assert.equal(prefs.history.saving_disabled, true);
  assert.deepEqual(prefs.policy, { url_blocklist: ['*'], url_allowlist: [ORIGIN] }, 'only the kiosk\'s own origin');
  assert.deepEqual(JSON.parse(text), kioskPreferences(START, ORIGIN));
  const localState = JSON.parse(readFileSync(join(dir, 'Local State'), 'utf8'));
  assert.deepEqual(localState.select_file_dialogs, { allowed: false }, 'no file chooser (Ctrl+O)');
});

test('[shell] removing a profile also removes the socket directory Chromium made for it elsewhere', (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'thinkiosk-unit-profile-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const dir = createProfile(START, ORIGIN, parent);
  // What Chromium leaves: a socket directory in TMPDIR, linked from the profile.
  const socketDir = join(parent, 'org.chromium.Chromium.Zx81Qa');
  mkdirSync(socketDir);
  writeFileSync(join(socketDir, 'SingletonCookie'), '123');
  symlinkSync(join(socketDir, 'SingletonSocket'), join(dir, 'SingletonSocket'));
  writeFileSync(join(dir, 'Default', 'Login Data'), 'whatever Chromium kept');
  // A link elsewhere is not followed out of what is Chromium's own.
  const other = join(parent, 'not-chromium');
  mkdirSync(other);
  const second = createProfile(START, ORIGIN, parent);
  symlinkSync(join(other, 'SingletonSocket'), join(second, 'SingletonSocket'));
  removeProfile(dir);
  removeProfile(second);
  assert.equal(existsSync(dir), false);
  assert.equal(existsSync(socketDir), false);
  assert.equal(existsSync(second), false);
  assert.equal(existsSync(other), true, 'only org.chromium.Chromium.* directories are removed');
  removeProfile(join(parent, 'never-made')); // gone already: no error
});
