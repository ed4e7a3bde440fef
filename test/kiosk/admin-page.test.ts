/**
 * The fleet's admin page in Debian's Chromium, against the real controller (static backend, the
 * fleet in SQLite: test/support/admin-harness.ts) and simulated kiosks checking in over HTTP:
 * sign-in (and a refused non-administrator), the fleet table and a kiosk going quiet, a kiosk's
 * page, its own settings (a refused value keeps what was typed), a group's settings changing where
 * a value comes from, commands answered by the kiosk with its screenshot, a site token a new kiosk
 * enrols with, the audit log, a session that ends (logged out elsewhere), and updates: what each
 * kiosk's update agent does, a trial that rolled back, and which versions a group's kiosks run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_ROUTES, ROUTES } from '../../contract/routes.js';
import { startAdminHarness, type AdminHarness } from '../support/admin-harness.js';
import { launchChromium } from '../support/kiosk.js';
import type { SimulatedKiosk } from '../support/simulated-kiosk.js';

// This file's share of the ports: 16340-16349.
const PORT = 16340;
/** The fleet table as the admin sees it, for a person to look at (THINKIOSK_ADMIN_PAGE_SCREENSHOT to keep it elsewhere). */
const SCREENSHOT = process.env.THINKIOSK_ADMIN_PAGE_SCREENSHOT ?? path.join(tmpdir(), 'thinkiosk-admin-page-table.png');
/** A kiosk's page with a rolled-back trial, for a person to look at (next to SCREENSHOT). */
const UPDATE_SCREENSHOT = path.join(path.dirname(SCREENSHOT), 'thinkiosk-admin-page-update.png');
/** The table rereads every 10 s; a kiosk's page every 3 s while a command waits. */
const REFRESH_WAIT = 15_000;

let fleet: AdminHarness;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** The session the page last sent (Authorization), to end it through the controller's API as a logout would. */
let pageAuthorization: string | undefined;
let pi01: SimulatedKiosk;
let pi02: SimulatedKiosk;
let pc03: SimulatedKiosk;

before(async () => {
  fleet = await startAdminHarness({
    port: PORT,
    name: 'Lab 3 controller (test)',
    users: { ada: { password: 'ada-admin-pw', admin: true }, bob: { password: 'bob-user-pw', admin: false } },
    kiosks: [
      { hardware: 'pi4', hostname: 'lab3-pi01', number: 21 },
      { hardware: 'pi4', hostname: 'lab3-pi02', number: 22, underVoltage: true, temperatureC: 81.5 },
      { hardware: 'pc', hostname: 'lab3-pc03', number: 23 },
      { hardware: 'pc', hostname: 'lab3-pc04', number: 24, kioskVersion: '0.0.9', imageVersion: '2025.05.2' },
    ],
  });
  [pi01, pi02, pc03] = fleet.kiosks as [SimulatedKiosk, SimulatedKiosk, SimulatedKiosk];
  const pc04 = fleet.kiosks[3]!;
  pi01.session = { user: 'alice', desktop: 'Windows 11 (alice)', protocol: 'rdp', since: new Date(Date.now() - 25 * 60_000).toISOString() };
  // Each takes the fleet's settings at its first check-in and says so at its second.
  for (const kiosk of [pi01, pi02, pc03]) {
    await kiosk.checkIn();
    kiosk.applySettings();
    await kiosk.checkIn();
  }
  // lab3-pi02 on a weak power supply: crashes, a repair that helped and a fault it cannot repair.
  const crashAt = new Date(Date.now() - 40 * 60_000).toISOString();
  pi02.health = {
    restarts: 6, crashes: 5, lastCrash: { at: crashAt, reason: 'kiosk app exited with signal SIGSEGV' },
    repairs: [
      { fault: 'crash-loop', at: crashAt, detail: 'the kiosk restarted 5 times in 10 minutes', action: 'reset the kiosk app\'s cache and restarted it', repaired: true },
      { fault: 'under-voltage', at: crashAt, detail: 'the power supply delivers too little (under-voltage since boot)', action: null, repaired: false },
    ],
  };
  await pi02.checkIn();
  // Twenty minutes quiet: offline (check-ins every 60 s).
  await fleet.backdated(20 * 60, () => pc04.checkIn());
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => { pageAuthorization = request.headers().authorization ?? pageAuthorization; });
  page.on('console', (message) => {
    // The controller's refusals (400, 403, 409) are the page's business and shown; anything else is not.
    if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) pageErrors.push(`console: ${message.text()}`);
  });
});

after(async () => {
  await browser?.close();
  await fleet?.close();
});

async function signIn(user: string, password: string): Promise<void> {
  await page.getByTestId('username').fill(user);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('sign-in').click();
}

function row(name: string) {
  return page.locator('[data-testid="kiosk-row"]', { has: page.getByRole('link', { name, exact: true }) });
}

async function openKiosk(name: string): Promise<void> {
  await page.getByTestId('nav-fleet').click();
  await row(name).getByRole('link', { name, exact: true }).click();
  await page.getByTestId('kiosk-title').filter({ hasText: name }).waitFor();
  await page.getByTestId('kiosk-summary').locator('dt').first().waitFor();
}

function effectiveRow(key: string) {
  return page.locator(`[data-testid="effective-setting"][data-key="${key}"]`);
}

test('[admin page] a wrong password and a person who is not an administrator are refused with the controller\'s sentence', async () => {
  await page.goto(fleet.pageUrl);
  await page.getByTestId('controller-name').filter({ hasText: 'Lab 3 controller (test)' }).waitFor();
  await signIn('ada', 'not-her-password');
  await page.getByTestId('error').filter({ hasText: 'Wrong user name or password.' }).waitFor();
  assert.equal(await page.getByTestId('password').inputValue(), '', 'a refused password is not kept');

  await signIn('bob', 'bob-user-pw');
  const refusal = page.getByTestId('error').filter({ hasText: 'Only administrators can open the fleet page.' });
  await refusal.waitFor();
  assert.equal(await refusal.getAttribute('data-kind'), 'forbidden');
  assert.equal(await page.getByTestId('fleet-table').count(), 0);
});

test('[admin page] the fleet table: every kiosk with its state, person and health; a kiosk that goes quiet turns late, the admin\'s choice stays', async () => {
  await signIn('ada', 'ada-admin-pw');
  await page.getByTestId('fleet-table').waitFor();
  assert.equal(await page.getByTestId('kiosk-row').count(), 4);
  assert.equal(await page.getByTestId('signed-in-as').textContent(), 'Signed in as ada');
  assert.equal(await row('lab3-pi01').getAttribute('data-state'), 'online');
  assert.equal(await row('lab3-pc04').getAttribute('data-state'), 'offline');
  assert.equal(await row('lab3-pc04').getByTestId('kiosk-state').textContent(), 'offline', 'the state is written, not only coloured');
  assert.match(await row('lab3-pc04').getByTestId('kiosk-check-in').textContent() ?? '', /^20 min ago$/);
  assert.match(await row('lab3-pi01').getByTestId('kiosk-person').innerText(), /alice\s+Windows 11 \(alice\) · RDP/);
  assert.match(await row('lab3-pi02').innerText(), /81\.5 °C/);
  await row('lab3-pi02').getByTestId('throttled').waitFor();
  assert.match(await row('lab3-pi02').innerText(), /SIGSEGV/);
  assert.match(await row('lab3-pc04').innerText(), /app 0\.0\.9[\s\S]*image 2025\.05\.2/);
  assert.match(await row('lab3-pc03').innerText(), /10\.0\.3\.23\/24/);

  // Filters: by text and by state.
  await page.getByTestId('fleet-filter').fill('pc0');
  assert.equal(await page.locator('[data-testid="kiosk-row"]:visible').count(), 2);
  await page.getByTestId('fleet-filter').fill('');
  await page.getByTestId('fleet-state-filter').selectOption('offline');
  assert.equal(await page.locator('[data-testid="kiosk-row"]:visible').count(), 1);
  await page.getByTestId('fleet-state-filter').selectOption('');

  // lab3-pc03's last check-in was 200 s ago: late at the next reread, and the chosen row stays chosen.
  await row('lab3-pi01').locator('td').nth(2).click();
  assert.equal(await row('lab3-pi01').getAttribute('aria-selected'), 'true');
  await fleet.backdated(200, () => pc03.checkIn());
  await page.locator('[data-testid="kiosk-row"][data-state="late"]').waitFor({ timeout: REFRESH_WAIT });
  assert.equal(await row('lab3-pc03').getByTestId('kiosk-state').textContent(), 'late');
  assert.equal(await row('lab3-pi01').getAttribute('aria-selected'), 'true', 'the reread kept the admin\'s chosen row');
  assert.match(await page.getByTestId('fleet-counts').textContent() ?? '', /4 kiosks: 2 online, 1 late, 1 offline/);

  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
});

test('[admin page] a kiosk\'s page: its inventory, health and the repairs it made', async () => {
  await openKiosk('lab3-pi02');
  const inventory = await page.getByTestId('kiosk-inventory').innerText();
  for (const expected of ['Raspberry Pi 4 Model B Rev 1.5', 'dc:a6:32:4e:10:16', 'eth0: 10.0.3.22/24', 'HDMI-A-1: 1920×1080', '046d:c31c Logitech USB Keyboard', '23.4 s', 'under-voltage since boot']) {
    assert.ok(inventory.includes(expected), `inventory shows ${expected}:\n${inventory}`);
  }
  assert.match(inventory, /Uptime\s+3 h \d+ min/);
  const health = await page.getByTestId('kiosk-health').innerText();
  assert.match(health, /6 restarts, 5 crashes/);
  assert.match(health, /crash-loop\s+the kiosk restarted 5 times in 10 minutes\s+reset the kiosk app's cache and restarted it\s+✓ repaired/);
  assert.match(health, /under-voltage\s+the power supply delivers too little.*\s+nothing the kiosk can do itself\s+still there/);
  assert.match(await page.getByTestId('kiosk-summary').innerText(), /Temperature\s+81\.5 °C ⚠ throttled or under-voltage/);
});

test('[admin page] own settings: a wrong value shows its rule and keeps what was typed; saved values come from the kiosk', async () => {
  await openKiosk('lab3-pi01');
  const idle = page.locator('#own-settings-idle_logout_minutes');
  await idle.fill('soon');
  await page.getByTestId('own-settings-save').click();
  const problem = page.getByTestId('own-settings').getByTestId('problem-idle_logout_minutes');
  await problem.filter({ hasText: 'idle_logout_minutes must be a whole number from 0 (never) to 1440' }).waitFor();
  assert.match(await page.getByTestId('own-settings-status').innerText(), /idle_logout_minutes must be a whole number from 0 \(never\) to 1440/);
  assert.equal(await idle.inputValue(), 'soon', 'what the admin typed stays');

  await idle.fill('20');
  const pin = page.locator('#own-settings-admin_pin');
  assert.equal(await pin.getAttribute('type'), 'password');
  assert.equal(await pin.getAttribute('inputmode'), 'numeric');
  await pin.fill('4321');
  await page.getByTestId('own-settings-save').click();
  await page.getByTestId('own-settings-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal(await effectiveRow('idle_logout_minutes').getByTestId('setting-source').textContent(), 'kiosk (own)');
  assert.match(await effectiveRow('idle_logout_minutes').innerText(), /20/);
  assert.match(await effectiveRow('admin_pin').innerText(), /•+ \(set\)/);
  assert.ok(!(await page.getByTestId('kiosk-view').innerText()).includes('scrypt$'), 'the PIN\'s hash is not shown');
  assert.equal(await pin.inputValue(), '', 'the typed PIN is gone once saved');
  const answer = await fleet.asAdmin(ADMIN_ROUTES.kiosk, { params: { id: pi01.id } });
  assert.equal(answer.status, 200);
  const stored = answer.body as { ownSettings: Record<string, string> };
  assert.equal(stored.ownSettings.idle_logout_minutes, '20');
  assert.match(stored.ownSettings.admin_pin ?? '', /^scrypt\$/, 'the controller stored the PIN as its hash');
});

test('[admin page] settings layers: the site\'s default, then a new group\'s value becomes the kiosk\'s once it is in the group', async () => {
  await page.getByTestId('nav-settings').click();
  await page.locator('#site-settings-language').fill('en');
  await page.getByTestId('site-settings-save').click();
  await page.getByTestId('site-settings-status').filter({ hasText: 'Saved.' }).waitFor();

  // A wrong value in a new group: the sentence, the name and the value stay.
  await page.getByTestId('new-group-name').fill('lab-3');
  await page.locator('#new-group-settings-language').fill('fr');
  await page.getByTestId('new-group-save').click();
  await page.getByTestId('new-group-form').getByTestId('problem-language').filter({ hasText: 'language must be en or zh-CN' }).waitFor();
  assert.equal(await page.getByTestId('new-group-name').inputValue(), 'lab-3');
  await page.locator('#new-group-settings-language').fill('zh-CN');
  await page.getByTestId('new-group-save').click();
  await page.locator('[data-testid="group-form"][data-group="lab-3"]').waitFor();
  assert.equal(await page.locator('#group-lab-3-settings-language').inputValue(), 'zh-CN');

  await openKiosk('lab3-pi01');
  assert.equal(await effectiveRow('language').getByTestId('setting-source').textContent(), 'site');
  await page.getByTestId('kiosk-group').selectOption('lab-3');
  await page.getByTestId('kiosk-group-save').click();
  await page.getByTestId('manage-status').filter({ hasText: 'Moved to lab-3.' }).waitFor();
  assert.equal(await effectiveRow('language').getByTestId('setting-source').textContent(), 'group:lab-3');
  assert.match(await effectiveRow('language').innerText(), /zh-CN/);
});

test('[admin page] updates: the fleet table says what each kiosk\'s update agent does and whose trial rolled back; the kiosk\'s page has slot, version, progress and the trial\'s detail and time; a group lists its kiosks\' versions', async () => {
  const trialAt = new Date(Date.now() - 7 * 60_000).toISOString();
  pi01.update = {
    runningVersion: '2025.06.1', bootedSlot: 'a', committedSlot: 'a', phase: 'idle', targetVersion: null, source: null, percent: null, message: null,
    lastTrial: { version: '2025.07.0', slot: 'b', outcome: 'rolled-back', detail: 'the kiosk was not ready after 300 s: the health gate returned it to slot a', at: trialAt },
    updatedAt: new Date().toISOString(),
  };
  pi02.update = {
    runningVersion: '2025.06.1', bootedSlot: 'b', committedSlot: 'b', phase: 'writing', targetVersion: '2025.07.0', source: 'fleet (update_url)', percent: 42.7,
    message: 'writing slot a: 1.2 of 2.9 GiB', lastTrial: null, updatedAt: new Date().toISOString(),
  };
  await pi01.checkIn();
  await pi02.checkIn();
  assert.equal((await fleet.asAdmin(ADMIN_ROUTES.updateKiosk, { params: { id: pi02.id }, body: { group: 'lab-3' } })).status, 200);

  await page.getByTestId('nav-fleet').click();
  const pi01Update = row('lab3-pi01').getByTestId('kiosk-update');
  await page.locator('[data-testid="kiosk-update"][data-last-trial="rolled-back"]').waitFor({ timeout: REFRESH_WAIT });
  assert.match(await pi01Update.innerText(), /^idle\s+⚠ 2025\.07\.0 rolled back, 7 min ago$/);
  assert.equal(await row('lab3-pi01').getByTestId('update-last-trial').getAttribute('class'), 'warning');
  assert.match(await row('lab3-pi02').getByTestId('kiosk-update').innerText(), /^writing 42 % \(2025\.07\.0\)$/);
  assert.equal(await row('lab3-pc03').getByTestId('kiosk-update').innerText(), '—', 'a kiosk without A/B updates');
  await page.getByTestId('fleet-filter').fill('rolled back');
  assert.equal(await page.locator('[data-testid="kiosk-row"]:visible').count(), 1);
  assert.equal(await page.locator('[data-testid="kiosk-row"]:visible').getAttribute('data-kiosk-id'), pi01.id);
  await page.getByTestId('fleet-filter').fill('');

  await openKiosk('lab3-pi01');
  const state = page.getByTestId('kiosk-update-state');
  await state.getByTestId('update-running').filter({ hasText: '2025.06.1' }).waitFor();
  assert.equal(await state.getByTestId('update-slot').innerText(), 'booted from A (partition 2); committed: A (partition 2)');
  assert.equal(await state.getByTestId('update-now').innerText(), 'idle');
  const trial = state.getByTestId('update-last-trial');
  assert.equal(await trial.getAttribute('data-outcome'), 'rolled-back');
  assert.equal(await trial.getAttribute('class'), 'error', 'a rolled-back trial stands out');
  const trialText = await trial.innerText();
  assert.match(trialText, /^Last trial: 2025\.07\.0 on slot B rolled back — .+ \(7 min ago\)\nthe kiosk was not ready after 300 s: the health gate returned it to slot a$/);
  const shownAt = await page.evaluate((at) => new Date(at).toLocaleString(), trialAt);
  assert.ok(trialText.includes(shownAt), `the trial's time as the admin's browser writes it (${shownAt}):\n${trialText}`);
  await page.screenshot({ path: UPDATE_SCREENSHOT, fullPage: true });

  await openKiosk('lab3-pi02');
  await state.getByTestId('update-now').filter({ hasText: 'writing 42 % (2025.07.0)' }).waitFor();
  assert.equal(await state.getByTestId('update-progress').getAttribute('value'), '42.7');
  const pi02Text = await state.innerText();
  for (const expected of [/booted from B \(partition 3\); committed: B \(partition 3\)/, /Installing\s+2025\.07\.0/, /From\s+fleet \(update_url\)/, /Message\s+writing slot a: 1\.2 of 2\.9 GiB/, /No trial boot of a new version yet\./]) {
    assert.match(pi02Text, expected);
  }

  // lab-3 now holds lab3-pi01 and lab3-pi02, both on 2025.06.1 (no update_version set: the versions only).
  await page.getByTestId('nav-settings').click();
  const versions = page.locator('[data-testid="group-form"][data-group="lab-3"]').getByTestId('group-versions');
  await versions.filter({ hasText: 'Running 2025.06.1: 2' }).waitFor();
});

test('[admin page] commands: identify and screenshot wait for the kiosk, then show done and the picture', async () => {
  await openKiosk('lab3-pi01');
  // Reboot asks first; cancelled, nothing is sent.
  await page.getByTestId('command-reboot').click();
  await page.getByTestId('confirm').waitFor();
  await page.getByTestId('confirm-no').click();
  await page.getByTestId('command-identify').click();
  await page.locator('[data-testid="command"][data-kind="identify"][data-state="pending"]').waitFor();
  await page.getByTestId('command-screenshot').click();
  await page.locator('[data-testid="command"][data-kind="screenshot"][data-state="pending"]').waitFor();
  assert.equal(await page.locator('[data-testid="command"][data-kind="reboot"]').count(), 0, 'a cancelled reboot was not sent');

  // The kiosk checks in, runs both, uploads its screen and answers at its next check-in.
  const reply = await pi01.checkIn();
  const identify = reply.commands.find((c) => c.kind === 'identify');
  const screenshot = reply.commands.find((c) => c.kind === 'screenshot');
  assert.ok(identify && screenshot, `the kiosk got both commands: ${JSON.stringify(reply.commands)}`);
  assert.equal(identify.issuedBy, 'ada');
  assert.equal(await pi01.uploadScreenshot(screenshot), 204);
  pi01.ack(identify, 'done', 'showed its name on the screen for 10 s');
  await pi01.checkIn();

  await page.locator('[data-testid="command"][data-kind="identify"][data-state="done"]').waitFor({ timeout: REFRESH_WAIT });
  await page.locator('[data-testid="command"][data-kind="screenshot"][data-state="done"]').waitFor({ timeout: REFRESH_WAIT });
  assert.match(await page.locator('[data-testid="command"][data-kind="identify"]').innerText(), /showed its name on the screen for 10 s/);
  const picture = page.getByTestId('screenshot-image');
  await picture.waitFor({ timeout: REFRESH_WAIT });
  assert.match(await picture.getAttribute('src') ?? '', /^blob:/, 'fetched with the token, shown from a blob: URL');
  await page.waitForFunction(() => (document.querySelector('[data-testid="screenshot-image"]') as HTMLImageElement | null)?.naturalWidth === 640);
});

test('[admin page] enrolment: a site token is shown once with its thinkiosk.conf line, and a new kiosk enrols with it', async () => {
  await page.getByTestId('nav-enrolment').click();
  await page.getByTestId('token-label').fill('Lab 4');
  await page.getByTestId('token-make').click();
  const line = (await page.getByTestId('made-token-line').textContent({ timeout: 10_000 })) ?? '';
  const token = /^fleet_token = ([A-Za-z0-9_-]{16,128})$/.exec(line)?.[1];
  assert.ok(token, `the line to put into thinkiosk.conf: ${line}`);
  await page.locator('[data-testid="site-token"]', { hasText: 'Lab 4' }).waitFor();
  assert.ok(!(await page.getByTestId('site-tokens').innerText()).includes(token), 'the list never shows a token');

  const newcomer = fleet.kiosk({ hardware: 'pc', hostname: 'lab4-pc01', number: 41 });
  await newcomer.enrol(token);
  await newcomer.checkIn();

  // A registered MAC, typed as people copy it from a label: the kiosk with it enrols without a token, named and grouped.
  await page.getByTestId('mac-address').fill('DC-A6-32-4E-10-99');
  await page.getByTestId('mac-name').fill('lab3-pi09');
  await page.getByTestId('mac-group').selectOption('lab-3');
  await page.getByTestId('mac-register').click();
  await page.locator('[data-testid="registered-mac"]', { hasText: 'dc:a6:32:4e:10:99' }).waitFor();
  const registered = fleet.kiosk({ hardware: 'pi4', hostname: 'raspberrypi', number: 0x99 });
  await registered.enrol();
  await registered.checkIn();

  await page.getByTestId('nav-fleet').click();
  await row('lab4-pc01').waitFor({ timeout: REFRESH_WAIT });
  assert.equal(await row('lab4-pc01').getAttribute('data-state'), 'online');
  await row('lab3-pi09').waitFor({ timeout: REFRESH_WAIT });
  assert.match(await row('lab3-pi09').innerText(), /lab-3/);
});

test('[admin page] a kiosk renamed, then forgotten (after a question): gone from the table', async () => {
  await openKiosk('lab3-pc04');
  await page.getByTestId('kiosk-rename').fill('lab3-pc04-old');
  await page.getByTestId('kiosk-rename-save').click();
  await page.getByTestId('kiosk-title').filter({ hasText: 'lab3-pc04-old' }).waitFor();
  await page.getByTestId('kiosk-forget').click();
  await page.getByTestId('confirm').filter({ hasText: 'Forget lab3-pc04-old?' }).waitFor();
  await page.getByTestId('confirm-yes').click();
  await page.getByTestId('fleet-table').waitFor();
  await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid="kiosk-name"]')].some((a) => a.textContent?.startsWith('lab3-pc04')));
  assert.equal((await fleet.asAdmin(ADMIN_ROUTES.kiosk, { params: { id: fleet.kiosks[3]!.id } })).status, 404);
});

test('[admin page] the audit log lists the changes, newest first, with the administrator\'s name', async () => {
  await page.getByTestId('nav-audit').click();
  await page.getByTestId('audit-entry').first().waitFor();
  const entries = await page.getByTestId('audit-entry').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  const actions = entries.map(([, who, action, target]) => `${who} ${action} ${target}`);
  for (const expected of ['ada forget-kiosk lab3-pc04-old', 'ada register-mac dc:a6:32:4e:10:99', 'ada update-kiosk lab3-pi01', 'ada site-settings site', 'ada group-settings group:lab-3', 'ada command lab3-pi01', 'ada make-site-token site token "Lab 4"']) {
    assert.ok(actions.includes(expected), `audit has "${expected}":\n${actions.join('\n')}`);
  }
  assert.equal(actions[0], 'ada forget-kiosk lab3-pc04-old', 'the newest entry is first');
  assert.ok(!entries.flat().some((cell) => cell.includes('4321')), 'the audit log holds no PIN');
});

test('[admin page] a session the controller no longer accepts goes back to sign-in; a reload asks again; sign-out; a controller that stops answering is said so', async () => {
  // The page's session ends elsewhere (a logout of the same session, e.g. from another tab or instance).
  const token = /^Bearer (\S+)$/.exec(pageAuthorization ?? '')?.[1];
  assert.ok(token, 'the page sent its session');
  assert.equal((await fleet.call(ROUTES.logout, { token })).status, 204);
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('sign-in-form').waitFor();
  await page.getByTestId('sign-in-status').filter({ hasText: 'Your session has ended. Please sign in again.' }).waitFor();

  await signIn('ada', 'ada-admin-pw');
  await page.getByTestId('fleet-table').waitFor();
  const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookies: document.cookie }));
  assert.deepEqual(stored, { local: 0, session: 0, cookies: '' }, 'nothing of the session is kept in the browser');
  await page.reload();
  await page.getByTestId('sign-in-form').waitFor();

  await signIn('ada', 'ada-admin-pw');
  await page.getByTestId('fleet-table').waitFor();
  await page.getByTestId('sign-out').click();
  await page.getByTestId('sign-in-status').filter({ hasText: 'Signed out.' }).waitFor();
  await signIn('ada', 'ada-admin-pw');
  await page.getByTestId('fleet-table').waitFor();
  assert.deepEqual(pageErrors, [], 'no errors in the page (and none from its CSP)');

  // The controller goes away: the table keeps what it showed and says why it is not fresh.
  await fleet.stopServing();
  await page.getByTestId('page-status').filter({ hasText: 'The controller does not answer.' }).waitFor({ timeout: REFRESH_WAIT });
  assert.ok(await page.getByTestId('kiosk-row').count() >= 4, 'the last list stays on screen');
});
