/**
 * The admin screen behind the PIN (preset as a hash on the "boot partition"; on a netbooted kiosk
 * without one, a site administrator's sign-in sets it), the technician terminal, diagnostics, screen
 * modes on a real X server, the log view (no password in it), the languages (from the system
 * locale, from the preset, switchable for the person at the kiosk), idle logout, the admin screen
 * locking itself, and the boot server's switch — all through the real page in Chromium, against a
 * real controller (static backend).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { hashPassword } from '../../controller/core/password-hash.js';
import { hashPin } from '../../app/core/system/admin-pin.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';
import { exists, startDaemon, waitFor, type Daemon } from '../support/system-daemons.js';
import { launchChromium, openKioskPage, startKiosk } from '../support/kiosk.js';

// This file's share of the kiosk tests' range: port 17020, X display :64.
const DISPLAY = ':64';
let work: string;
let ctl: StaticController;
let inventory: string;
let xvfb: Daemon;
let browser: Browser;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-kiosk-admin-'));
  inventory = `
users:
  - { name: ana, password: "${await hashPassword('ana-secret-pw')}" }
  - { name: boss, password: "${await hashPassword('boss-secret-pw')}", admin: true }
desktops: []
`;
  ctl = await startStaticController({ workDir: work, port: 17020, inventory });
  xvfb = startDaemon('Xvfb', [DISPLAY, '-screen', '0', '1280x800x24', '-nolisten', 'tcp']);
  await waitFor('Xvfb', () => exists(`/tmp/.X11-unix/X${DISPLAY.slice(1)}`));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await xvfb?.stop();
  await ctl?.close();
  rmSync(work, { recursive: true, force: true });
});

test('[kiosk][admin] PIN from the preset; terminal, diagnostics, screen modes and the log behind it', async (t) => {
  const kiosk = await startKiosk({ preset: `controller = ${ctl.url}\nadmin_pin = ${await hashPin('2468')}\n`, env: { DISPLAY } });
  t.after(() => kiosk.stop());
  const { page, pageErrors } = await openKioskPage(browser, kiosk);

  // A login first, so the log has something that must not show the password.
  await page.getByTestId('username').fill('ana');
  await page.getByTestId('password').fill('ana-secret-pw');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('desktops-empty').waitFor({ timeout: 20_000 });
  await page.getByTestId('logout').click();

  await page.getByTestId('open-admin').click();
  await page.getByTestId('admin-pin').fill('1357');
  await page.getByTestId('admin-unlock').click();
  assert.equal(await page.getByTestId('error').getAttribute('data-kind'), 'locked');
  await page.getByTestId('admin-pin').fill('2468');
  await page.getByTestId('admin-unlock').click();
  await page.getByTestId('admin-panel').waitFor();

  await page.getByTestId('tab-terminal').click();
  const terminal = page.locator('[data-testid=terminal-output][data-ready=true]');
  await terminal.waitFor();
  // As a person does: type once the shell shows its prompt (on a busy machine it takes a while).
  await terminal.filter({ hasText: /[$#] *$/ }).waitFor({ timeout: 20_000 });
  await terminal.pressSequentially('echo thinkiosk-$((6*7))');
  await terminal.press('Enter');
  await page.getByTestId('terminal-output').filter({ hasText: 'thinkiosk-42' }).waitFor({ timeout: 10_000 });

  await page.getByTestId('tab-diagnostics').click();
  await page.getByTestId('diagnostic').first().waitFor({ timeout: 20_000 });
  const checks = await page.getByTestId('diagnostic').evaluateAll((rows) => rows.map((r) => `${(r as HTMLElement).dataset.ok} ${r.textContent}`));
  assert.ok(checks.some((c) => c.startsWith('true') && /thinkiosk|controller/i.test(c)), checks.join('\n'));

  await page.getByTestId('tab-display').click();
  await page.getByTestId('display-outputs').waitFor({ timeout: 10_000 });
  assert.match(await page.getByTestId('display-outputs').innerText(), /1280x800/);

  await page.getByTestId('tab-logs').click();
  const log = await page.getByTestId('log-view').innerText();
  assert.match(log, /login: ana/);
  assert.ok(!log.includes('ana-secret-pw'), 'the password never reaches the log');

  await page.getByTestId('admin-lock').click();
  await page.getByTestId('login-screen').waitFor();
  assert.deepEqual(pageErrors, []);
});

test('[kiosk][admin] boot server: the service\'s status in words, and Turn on / Turn off write the switch it watches', async (t) => {
  const stateDir = path.join(work, 'boot-server-state');
  mkdirSync(stateDir, { recursive: true });
  const status = {
    state: 'running', reason: 'boot_server = on in /boot/firmware/thinkiosk.conf', since: new Date().toISOString(), mode: 'proxy', interface: 'eth0',
    address: '192.168.1.5', httpUrl: 'http://192.168.1.5:8069/', arches: ['amd64'], error: null,
    problems: ['No Raspberry Pi boot files: Raspberry Pis cannot boot from this box.'],
    events: [
      { at: new Date().toISOString(), kind: 'dhcp', client: '52:54:00:12:34:01', detail: 'PXE(eth0) 52:54:00:12:34:01 proxy' },
      { at: new Date().toISOString(), kind: 'dhcp', client: '52:54:00:12:34:02', detail: 'PXE(eth0) 52:54:00:12:34:02 proxy' },
      { at: new Date().toISOString(), kind: 'http', client: '192.168.1.120', detail: 'GET /amd64/vmlinuz 200 9000000 bytes 80 ms' },
    ],
  };
  writeFileSync(path.join(stateDir, 'status.json'), JSON.stringify(status));
  const kiosk = await startKiosk({
    preset: `controller = ${ctl.url}\nadmin_pin = ${await hashPin('2468')}\n`,
    env: { THINKIOSK_BOOT_SERVER_STATE: stateDir, THINKIOSK_BOOT_SOURCE: '' },
  });
  t.after(() => kiosk.stop());
  const { page, pageErrors } = await openKioskPage(browser, kiosk);
  const switchFile = (): unknown => JSON.parse(readFileSync(path.join(kiosk.settingsDir, 'boot-server.json'), 'utf8'));

  await page.getByTestId('open-admin').click();
  await page.getByTestId('admin-pin').fill('2468');
  await page.getByTestId('admin-unlock').click();
  await page.getByTestId('admin-panel').waitFor();
  await page.getByTestId('tab-boot-server').click();
  const state = page.getByTestId('boot-server-state');
  await state.waitFor();
  assert.equal(await state.innerText(), 'Serving: proxy-DHCP on eth0 (192.168.1.5) — 2 clients served');
  assert.match(await page.getByTestId('boot-server-problems').innerText(), /Raspberry Pis cannot boot/);
  assert.equal(await page.getByTestId('boot-server-switch').getAttribute('data-switch'), 'not-chosen');
  assert.match(await page.getByTestId('boot-server').innerText(), /leaves the site's DHCP server alone/);

  await page.getByTestId('boot-server-on').click();
  await page.locator('[data-testid="boot-server-switch"][data-switch="on"]').waitFor();
  assert.deepEqual({ ...(switchFile() as object), changedAt: '' }, { enabled: true, changedAt: '' });
  assert.ok(await page.getByTestId('boot-server-on').isDisabled(), 'already on');

  await page.getByTestId('boot-server-off').click();
  await page.locator('[data-testid="boot-server-switch"][data-switch="off"]').waitFor();
  assert.equal((switchFile() as { enabled: boolean }).enabled, false);
  assert.match(await page.getByTestId('boot-server-switch').innerText(), /Waiting for the boot server to stop/);

  // The service reports back (the page rereads on its own), then a status it cannot make sense of.
  writeFileSync(path.join(stateDir, 'status.json'), JSON.stringify({ ...status, state: 'off', reason: 'switched off on the admin screen', address: null, events: [] }));
  await page.locator('[data-testid="boot-server-state"][data-state="off"]').waitFor({ timeout: 10_000 });
  assert.equal(await state.innerText(), 'Off');
  writeFileSync(path.join(stateDir, 'status.json'), '{"state": "running", ');
  await page.getByTestId('boot-server-refresh').click();
  await page.locator('[data-testid="boot-server-state"][data-state="unknown"]').waitFor();
  assert.match(await state.innerText(), /^Unknown: The boot server's status cannot be read/);
  rmSync(path.join(stateDir, 'status.json'));
  await page.getByTestId('boot-server-refresh').click();
  await page.locator('[data-testid="boot-server-state"][data-state="not-installed"]').waitFor();
  assert.equal(await state.innerText(), 'Not installed on this box');

  await page.getByTestId('tab-language').click();
  await page.getByTestId('admin-language-zh-CN').click();
  await page.getByTestId('tab-boot-server').click();
  await page.locator('[data-testid="boot-server-state"]', { hasText: '本机未安装' }).waitFor();
  assert.equal(await page.getByTestId('boot-server-on').innerText(), '开启');
  assert.doesNotMatch(await page.getByTestId('admin-panel').innerText(), /\n\s+at .*\(/, 'no stack trace on screen');
  assert.deepEqual(pageErrors, []);
});

test('[kiosk][admin][netboot] a netbooted kiosk without a PIN: its admin screen opens for no PIN — a site administrator signs in and sets one; then the boot server tab says it cannot serve others', async (t) => {
  const kiosk = await startKiosk({
    preset: `controller = ${ctl.url}\n`,
    env: { THINKIOSK_BOOT_SERVER_STATE: path.join(work, 'no-boot-server'), THINKIOSK_BOOT_SOURCE: 'netboot from 10.0.0.2' },
  });
  t.after(() => kiosk.stop());
  const { page, pageErrors } = await openKioskPage(browser, kiosk);
  const key = /#key=(.+)$/.exec(kiosk.url)![1]!;
  const rpc = (method: string, args: unknown) => fetch(new URL(`/rpc/${method}`, kiosk.url), { method: 'POST', headers: { 'x-thinkiosk-key': key, 'content-type': 'application/json' }, body: JSON.stringify(args) }).then((r) => r.json());
  // No PIN is no door: none of these opens it.
  for (const pin of ['', '0000', '1234']) assert.equal((await rpc('adminUnlock', { pin })).error?.kind, 'locked', `PIN "${pin}"`);
  assert.equal((await rpc('saveController', { url: 'http://127.0.0.1:9' })).error?.kind, 'locked', 'nobody points it at another controller');

  await page.getByTestId('open-admin').click();
  assert.match(await page.getByTestId('admin-explanation').innerText(), /site administrator of Static test site signs in/);
  assert.equal(await page.getByTestId('admin-pin').count(), 0, 'no PIN field: there is no PIN');
  // A user who is not an administrator of the site is refused, and is not logged in either.
  await page.getByTestId('admin-username').fill('ana');
  await page.getByTestId('admin-password').fill('ana-secret-pw');
  await page.getByTestId('admin-sign-in').click();
  assert.match(await page.getByTestId('error').innerText(), /ana is not an administrator of this site/);
  await page.getByTestId('admin-username').fill('boss');
  await page.getByTestId('admin-password').fill('boss-secret-pw');
  await page.getByTestId('admin-sign-in').click();
  await page.getByTestId('admin-new-pin').waitFor();
  assert.match(await page.getByTestId('admin-screen').innerText(), /started from the network, so the PIN lasts until it restarts/);
  await page.getByTestId('admin-new-pin').fill('8642');
  await page.getByTestId('admin-new-pin-again').fill('8642');
  await page.getByTestId('admin-pin-save').click();
  await page.getByTestId('admin-panel').waitFor();
  assert.equal((await rpc('state', {})).value.session, null, 'the administrator\'s sign-in was no user session');

  await page.getByTestId('tab-boot-server').click();
  await page.getByTestId('boot-server-state').waitFor();
  assert.match(await page.getByTestId('boot-server').getByTestId('notice').innerText(), /netboot from 10\.0\.0\.2.*a netbooted client cannot serve others/);
  assert.ok(await page.getByTestId('boot-server-on').isDisabled());
  assert.ok(await page.getByTestId('boot-server-off').isDisabled());
  // Not even past the page.
  const refused = await rpc('setBootServer', { enabled: true });
  assert.equal(refused.ok, false);
  assert.equal(refused.error.kind, 'forbidden');
  assert.match(refused.error.message, /cannot serve others/);
  assert.ok(!existsSync(path.join(kiosk.settingsDir, 'boot-server.json')));

  // From now on the PIN is the door.
  await page.getByTestId('admin-lock').click();
  await page.getByTestId('login-screen').waitFor();
  await page.getByTestId('open-admin').click();
  await page.getByTestId('admin-pin').fill('8642');
  await page.getByTestId('admin-unlock').click();
  await page.getByTestId('admin-panel').waitFor();
  assert.ok(!kiosk.output().includes('boss-secret-pw'), 'no password in the log');
  assert.deepEqual(pageErrors, []);
});

test('[kiosk][admin] the admin screen locks itself after a while unused and the page returns to the login screen', async (t) => {
  const kiosk = await startKiosk({ preset: `controller = ${ctl.url}\nadmin_pin = ${await hashPin('2468')}\n`, env: { THINKIOSK_ADMIN_IDLE_SECONDS: '4' } });
  t.after(() => kiosk.stop());
  const { page, pageErrors } = await openKioskPage(browser, kiosk);
  await page.getByTestId('open-admin').click();
  await page.getByTestId('admin-pin').fill('2468');
  await page.getByTestId('admin-unlock').click();
  await page.getByTestId('admin-panel').waitFor();
  await page.getByTestId('login-screen').waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId('notice').innerText(), /settings were locked because they were not used/);
  const key = /#key=(.+)$/.exec(kiosk.url)![1]!;
  const after = await fetch(new URL('/rpc/networkStatus', kiosk.url), { method: 'POST', headers: { 'x-thinkiosk-key': key, 'content-type': 'application/json' }, body: '{}' }).then((r) => r.json());
  assert.equal(after.error.kind, 'locked');
  assert.deepEqual(pageErrors, []);
});

test('[kiosk][i18n] Chinese from the system locale; English and back with one click (for the person at the kiosk only)', async (t) => {
  const kiosk = await startKiosk({ preset: `controller = ${ctl.url}\n`, env: { LANG: 'zh_CN.UTF-8' } });
  t.after(() => kiosk.stop());
  const { page } = await openKioskPage(browser, kiosk);
  await page.getByTestId('login-screen').waitFor();
  assert.equal(await page.locator('h1').innerText(), '登录');
  assert.equal(await page.getByTestId('controller-name').innerText(), '来自 Static test site 的桌面');
  await page.getByTestId('language-switch').click();
  await page.locator('h1', { hasText: 'Log in' }).waitFor();
  await page.getByTestId('language-switch').click();
  await page.locator('h1', { hasText: '登录' }).waitFor();
  await page.getByTestId('language-switch').click();
  await page.locator('h1', { hasText: 'Log in' }).waitFor();
  assert.equal(JSON.parse(readFileSync(path.join(kiosk.settingsDir, 'settings.json'), 'utf8')).language ?? null, null, 'the switch is not saved for the next person');
});

test('[kiosk] idle logout: no input for the set time → back to login, with the reason', async (t) => {
  const kiosk = await startKiosk({ preset: `controller = ${ctl.url}\nadmin_pin = ${await hashPin('2468')}\n` });
  t.after(() => kiosk.stop());
  const { page } = await openKioskPage(browser, kiosk);
  // The admin screen offers whole minutes; the kiosk's API takes seconds, which keeps this test short.
  const key = /#key=(.+)$/.exec(kiosk.url)![1]!;
  const rpc = (method: string, args: unknown) => fetch(new URL(`/rpc/${method}`, kiosk.url), { method: 'POST', headers: { 'x-thinkiosk-key': key, 'content-type': 'application/json' }, body: JSON.stringify(args) }).then((r) => r.json());
  assert.equal((await rpc('adminSetIdleLogout', { seconds: 3 })).ok, false, 'admin calls need the PIN first');
  assert.equal((await rpc('adminUnlock', { pin: '' })).ok, false, 'no PIN, no door');
  assert.equal((await rpc('adminUnlock', { pin: '2468' })).ok, true);
  assert.equal((await rpc('adminSetIdleLogout', { seconds: 3 })).ok, true);
  assert.equal((await rpc('adminLock', {})).ok, true);
  await page.getByTestId('username').fill('ana');
  await page.getByTestId('password').fill('ana-secret-pw');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('desktops-screen').waitFor({ timeout: 20_000 });
  await page.getByTestId('login-screen').waitFor({ timeout: 15_000 });
  assert.match(await page.getByTestId('notice').innerText(), /inactivity/);
});

test('[kiosk] a session the controller no longer accepts (its key rotated) ends at the login screen, with the reason', async (t) => {
  const kiosk = await startKiosk({ preset: `controller = ${ctl.url}\n` });
  t.after(() => kiosk.stop());
  const { page, pageErrors } = await openKioskPage(browser, kiosk);
  await page.getByTestId('username').fill('ana');
  await page.getByTestId('password').fill('ana-secret-pw');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('desktops-empty').waitFor({ timeout: 20_000 });
  await ctl.close();
  ctl = await startStaticController({ workDir: work, port: 17020, inventory, sessionKey: Buffer.alloc(32, 7) });
  await page.getByTestId('refresh').click();
  await page.getByTestId('login-screen').waitFor({ timeout: 15_000 });
  assert.match(await page.getByTestId('notice').innerText(), /log in again/i);
  assert.deepEqual(pageErrors, []);
});
