/**
 * The admin screen behind the PIN (preset as a hash on the "boot partition"; on a netbooted kiosk
 * without one, a site administrator's sign-in sets it), the technician terminal, diagnostics, screen
 * modes on a real X server, the log view (no password in it), the languages (from the system
 * locale, from the preset, switchable for the person at the kiosk), idle logout, the admin screen
 * locking itself, the boot server's switch and the Update tab — all through the real page in
 * Chromium, against a real controller (static backend).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { hashPassword } from '../../controller/core/password-hash.js';
import { hashPin } from '../../app/core/system/admin-pin.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';
import { exists, startDaemon, waitFor, type Daemon } from '../support/system-daemons.js';
import { launchChromium, openKioskPage, startKiosk } from '../support/kiosk.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import got from 'got';
import { BootSlots, formatEnvBlock, formatSlotFile, parseSlotFile } from '../../app/core/update/boot-slots.js';
import { UpdateAgent } from '../../app/core/update/update-agent.js';
import { takeRequest } from '../../app/core/update/take-request.js';
import { readUpdateSettings } from '../../app/core/update/update-settings.js';
import { UpdateState } from '../../app/core/update/update-state.js';
import { StatusReporter } from '../../app/core/update/update-status-report.js';
import { chooseBundleIn } from '../../app/core/update/usb-bundles.js';
import { makeBundle, makeDisk, makeImages, removeImages } from '../unit/update-fixture.js';

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
  // The name arrives from the controller after the page is shown.
  await page.getByTestId('controller-name').filter({ hasText: '来自 Static test site 的桌面' }).waitFor();
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

/**
 * STAND-IN for root's update service (thinkiosk-update.path/.service): the real request taking and
 * the real UpdateAgent with its real status files, slot files and installer, but run in this test
 * process, with a disk image file as the slot target instead of partition 3 of the boot disk (the
 * service writes a block device), no USB stick plugged in, and the reboot only counted.
 */
interface RootUpdateServiceStandIn {
  requestDir: string;
  statusFile: string;
  healthDir: string;
  slotFile: string;
  /** A signed 0.3.0 bundle on an HTTP server on 127.0.0.1. */
  bundleUrl: string;
  reboots(): number;
  close(): Promise<void>;
}

async function rootUpdateServiceStandIn(dir: string): Promise<RootUpdateServiceStandIn> {
  const images = makeImages();
  const bundle = await makeBundle(images, 'thinkiosk-0.3.0-amd64.tkupdate', { version: '0.3.0' });
  const server = createServer((request, response) => {
    if (request.url !== '/thinkiosk-0.3.0-amd64.tkupdate') { response.writeHead(404).end('not found'); return; }
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    createReadStream(bundle).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bundleUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/thinkiosk-0.3.0-amd64.tkupdate`;
  for (const d of ['boot', 'data', 'run', 'requests', 'health']) mkdirSync(path.join(dir, d), { recursive: true });
  writeFileSync(path.join(dir, 'boot', 'tk-slot.txt'), formatSlotFile({ slot: 'a', trial: null, trialId: null }));
  writeFileSync(path.join(dir, 'boot', 'tk-tried.txt'), formatEnvBlock([['tk_tried', '']]));
  writeFileSync(path.join(dir, 'cmdline'), 'root=LABEL=TKROOT-A thinkiosk.slot=a\n');
  const slots = new BootSlots({ dir: path.join(dir, 'boot'), cmdlineFile: path.join(dir, 'cmdline'), remount: async () => undefined });
  const statusFile = path.join(dir, 'run', 'status.json');
  const state = new UpdateState(path.join(dir, 'data'), statusFile);
  const status = new StatusReporter(state, '0.2.0');
  // An earlier trial that did not stick, as the health gate records it.
  state.setLastTrial({ version: '0.2.5', slot: 'b', outcome: 'rolled-back', detail: 'Within 5 min the kiosk did not reach its controller; the kiosk went back to slot A.', at: new Date().toISOString() });
  status.report(await slots.read(), { phase: 'idle' });
  const disk = await makeDisk(dir, 'disk.img');
  let reboots = 0;
  const agent = new UpdateAgent({
    slots, state, status, runningVersion: '0.2.0', architecture: 'amd64',
    settings: async () => readUpdateSettings(null, null),
    trustedKeys: () => new Map([[images.key.keyId, images.key.publicKey]]),
    slotTarget: async () => disk.target,
    download: (url) => got.stream(url, { retry: { limit: 0 } }),
    openFile: (file) => createReadStream(file),
    mountSticks: async () => ({ dirs: [], devices: [], failures: [], release: async () => undefined }),
    chooseBundle: (dirs) => chooseBundleIn(dirs, new Map([[images.key.keyId, images.key.publicKey]]), 'amd64'),
    reboot: async () => { reboots++; },
  });
  const requestFile = path.join(dir, 'requests', 'update');
  let busy = false;
  // As the path unit: a look every 100 ms, one request at a time.
  const timer = setInterval(() => {
    if (busy) return;
    const taken = takeRequest(requestFile);
    if (!taken || !('request' in taken)) return;
    busy = true;
    void agent.handle(taken.request).finally(() => { busy = false; });
  }, 100);
  return {
    requestDir: path.join(dir, 'requests'), statusFile, healthDir: path.join(dir, 'health'), reboots: () => reboots, slotFile: path.join(dir, 'boot', 'tk-slot.txt'),
    bundleUrl,
    close: async () => {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      removeImages(images);
    },
  };
}

test('[kiosk][admin][update] the Update tab: root\'s status in words (version, slots, last trial), an install from an address with its progress, the USB stick without a bundle, errors as sentences; the health markers', async (t) => {
  const root = await rootUpdateServiceStandIn(path.join(work, 'update'));
  t.after(() => root.close());
  const { requestDir, statusFile, healthDir, slotFile, bundleUrl } = root;
  const kiosk = await startKiosk({
    preset: `controller = ${ctl.url}\nadmin_pin = ${await hashPin('2468')}\n`,
    env: { THINKIOSK_UPDATE_STATUS: statusFile, THINKIOSK_REQUEST_DIR: requestDir, THINKIOSK_HEALTH_DIR: healthDir },
  });
  t.after(() => kiosk.stop());
  const { page, pageErrors } = await openKioskPage(browser, kiosk);

  // The page is up and the controller answered: the markers root's health gate waits for on a trial boot.
  await waitFor('the controller-ok marker', () => exists(path.join(healthDir, 'controller-ok')));
  assert.equal((JSON.parse(readFileSync(path.join(healthDir, 'ready'), 'utf8')) as { controller: string }).controller, ctl.url);

  await page.getByTestId('open-admin').click();
  await page.getByTestId('admin-pin').fill('2468');
  await page.getByTestId('admin-unlock').click();
  await page.getByTestId('admin-panel').waitFor();
  await page.getByTestId('tab-update').click();
  await page.getByTestId('update-running-version').waitFor();
  assert.equal(await page.getByTestId('update-running-version').innerText(), 'Running version 0.2.0');
  assert.equal(await page.getByTestId('update-slots').innerText(), 'Started from slot A; slot A is the one this kiosk starts.');
  assert.equal(await page.getByTestId('update-last-trial').getAttribute('data-outcome'), 'rolled-back');
  assert.match(await page.getByTestId('update-last-trial').innerText(), /^Last update: 0\.2\.5 was tried in slot B and rolled back: the previous version runs again \(.+\)\.\n+Within 5 min the kiosk did not reach its controller/);
  assert.equal(await page.getByTestId('update-phase').getAttribute('data-phase'), 'idle');

  // Errors as sentences, nothing asked of root.
  await page.getByTestId('update-install-url').click();
  assert.equal(await page.getByTestId('update-answer').innerText(), 'Enter the address of an update bundle first.');
  await page.getByTestId('update-url').fill('file:///etc/shadow');
  await page.getByTestId('update-install-url').click();
  await page.getByTestId('update-answer').filter({ hasText: 'must be an http:// or https:// address' }).waitFor();
  assert.equal(existsSync(path.join(requestDir, 'update')), false);

  // The USB stick: none plugged in here, and root's agent says so.
  await page.getByTestId('update-install-usb').click();
  await page.locator('[data-testid="update-phase"][data-phase="failed"]').waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId('update-message').innerText(), /^No USB stick with a readable file system was found\. Plug it in and try again\.$/);

  // From an address: downloaded, checked, written to slot B, trial asked for, "rebooted".
  await page.getByTestId('update-url').fill(bundleUrl);
  await page.getByTestId('update-install-url').click();
  await page.getByTestId('update-answer').filter({ hasText: 'The update service has the request' }).waitFor();
  await page.locator('[data-testid="update-phase"][data-phase="rebooting"]').waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId('update-progress').getAttribute('value'), '100');
  assert.match(await page.getByTestId('update-phase').innerText(), /^Restarting into 0\.3\.0…/);
  assert.match(await page.getByTestId('update-message').innerText(), /slot B: restarting to try it/);
  assert.ok(await page.getByTestId('update-install-usb').isDisabled(), 'no second install while this one restarts');
  assert.equal(root.reboots(), 1);
  assert.equal(parseSlotFile(readFileSync(slotFile)).trial, 'b');
  assert.deepEqual(pageErrors, []);
});
