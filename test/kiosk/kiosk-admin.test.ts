/**
 * The admin screen behind the PIN (preset as a hash on the "boot partition"), the technician
 * terminal, diagnostics, screen modes on a real X server, the log view (no password in it), the
 * languages (from the system locale, from the preset, switchable) and idle logout — all through the
 * real page in Chromium, against a real controller (static backend).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { hashPassword } from '../../controller/password-hash.js';
import { hashPin } from '../../app/core/system/admin-pin.js';
import { startStaticController, type StaticController } from '../peers/static-harness.js';
import { launchChromium, openKioskPage, startKiosk } from '../support/kiosk.js';

// This file's share of the kiosk tests' range: port 17020, X display :64.
const DISPLAY = ':64';
let work: string;
let ctl: StaticController;
let inventory: string;
let xvfb: ChildProcess;
let browser: Browser;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-kiosk-admin-'));
  inventory = `
users: [{ name: ana, password: "${await hashPassword('ana-secret-pw')}" }]
desktops: []
`;
  ctl = await startStaticController({ workDir: work, port: 17020, inventory });
  xvfb = spawn('Xvfb', [DISPLAY, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 800));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  xvfb?.kill();
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
  const terminal = page.getByTestId('terminal-output');
  await terminal.waitFor();
  await page.waitForTimeout(500);
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

test('[kiosk][i18n] Chinese from the system locale; English and back with one click', async (t) => {
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
});

test('[kiosk] idle logout: no input for the set time → back to login, with the reason', async (t) => {
  const kiosk = await startKiosk({ preset: `controller = ${ctl.url}\n` });
  t.after(() => kiosk.stop());
  const { page } = await openKioskPage(browser, kiosk);
  // The admin screen offers whole minutes; the kiosk's API takes seconds, which keeps this test short.
  const key = /#key=(.+)$/.exec(kiosk.url)![1]!;
  const rpc = (method: string, args: unknown) => fetch(new URL(`/rpc/${method}`, kiosk.url), { method: 'POST', headers: { 'x-thinkiosk-key': key, 'content-type': 'application/json' }, body: JSON.stringify(args) }).then((r) => r.json());
  assert.equal((await rpc('adminSetIdleLogout', { seconds: 3 })).ok, false, 'admin calls need the PIN first');
  assert.equal((await rpc('adminUnlock', { pin: '' })).ok, true, 'no PIN set yet: open');
  assert.equal((await rpc('adminSetIdleLogout', { seconds: 3 })).ok, true);
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
