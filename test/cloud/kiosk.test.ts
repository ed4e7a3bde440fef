/**
 * The real kiosk page (browser shell + Chromium) against the controller in front of the real
 * OpenStack: login, the desktop list with what Nova/Neutron/Glance say, in-app SPICE and VNC through
 * Nova's proxies to a libvirt guest (its console text must appear in the page), power with
 * confirmation, and a shut-off desktop that cannot be connected.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startController, type RunningController } from './harness.js';
import { launchChromium, openKioskPage, startKiosk, type KioskProcess } from '../support/kiosk.js';
import { litPixels } from '../support/pixels.js';

let ctl: RunningController;
let kiosk: KioskProcess;
let browser: Browser;
let page: Page;
let pageErrors: string[];

before(async () => {
  ctl = await startController({ name: 'Test OpenStack' });
  kiosk = await startKiosk({ preset: `# written by the test\ncontroller = ${ctl.url}\nlanguage = en\n` });
  browser = await launchChromium();
  ({ page, pageErrors } = await openKioskPage(browser, kiosk));
});
after(async () => {
  await browser?.close();
  await kiosk?.stop();
  await ctl?.close();
});

const row = (name: string) => page.locator(`[data-testid=desktop]:has([data-testid=desktop-name]:text-is("${name}"))`);

test('[kiosk][keystone] preset controller → login screen; a wrong password is refused with a clear message', async () => {
  await page.getByTestId('login-screen').waitFor();
  await page.getByTestId('username').fill('alice');
  await page.getByTestId('password').fill('not-her-password');
  await page.getByTestId('login-submit').click();
  const error = page.getByTestId('error');
  await error.waitFor({ timeout: 20_000 });
  assert.equal(await error.getAttribute('data-kind'), 'invalid-credentials');
  assert.equal(await page.getByTestId('password').inputValue(), '', 'the password field is cleared');
});

test('[kiosk][nova][neutron][glance] alice sees her desktops with state, IP, MAC, guest OS and protocol — and not bob\'s', async () => {
  await page.getByTestId('username').fill('alice');
  await page.getByTestId('password').fill('alicepass');
  await page.getByTestId('login-submit').click();
  await page.getByTestId('desktops-screen').waitFor({ timeout: 30_000 });
  await row('alice-linux').waitFor({ timeout: 30_000 });
  const names = await page.getByTestId('desktop-name').allInnerTexts();
  assert.ok(names.includes('alice-windows') && names.includes('alice-spare'), names.join(','));
  assert.ok(!names.some((n) => n.startsWith('bob')), 'only her own desktops');
  const linux = row('alice-linux');
  assert.equal(await linux.getByTestId('desktop-state').innerText(), 'Running');
  assert.match(await linux.getByTestId('desktop-os').innerText(), /^Linux/);
  assert.equal(await linux.getByTestId('desktop-protocol').innerText(), 'SPICE', 'Linux guest from a Linux kiosk');
  const windows = row('alice-windows'); // the one on kiosk-net (alice-linux has no network)
  // kiosk-net's fixed range, or the public pool's when an earlier RDP connect attached a floating IP
  // (the list then shows the floating one: that is the address a user can reach).
  assert.match(await windows.getByTestId('desktop-ip').innerText(), /^(192\.0\.2|203\.0\.113)\.\d+$/);
  assert.match(await windows.getByTestId('desktop-mac').innerText(), /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  assert.match(await windows.getByTestId('desktop-os').innerText(), /^Windows/);
  assert.equal(await windows.getByTestId('desktop-protocol').innerText(), 'RDP');
  assert.equal(await row('alice-appliance').getByTestId('desktop-protocol').innerText(), 'VNC', 'the metadata override wins');
});

async function expectGuestScreen(): Promise<number> {
  await page.locator('[data-testid=viewer][data-connected=true]').waitFor({ timeout: 40_000 });
  // Type into the guest's shell through the page (this also wakes a blanked console); its prompt
  // and echo arrive a moment later: poll the pixels.
  await page.getByTestId('viewer').click();
  await page.keyboard.type('echo thinkiosk\n', { delay: 30 });
  let lit = 0;
  for (let i = 0; i < 40 && lit < 1500; i += 1) {
    await page.waitForTimeout(500);
    lit = litPixels(await page.getByTestId('viewer').screenshot());
  }
  return lit;
}

test('[kiosk][spicehtml5proxy][libvirt] Connect opens the guest over SPICE in the page; Disconnect returns to the list', async () => {
  await row('alice-linux').getByTestId('connect').click();
  await page.getByTestId('session-screen').waitFor();
  const lit = await expectGuestScreen();
  assert.ok(lit >= 1500, `the guest's console is drawn in the page (${lit} lit pixels)`);
  await page.keyboard.press('Control+Alt+Home');
  await page.getByTestId('bar-disconnect').click();
  await page.getByTestId('desktops-screen').waitFor();
});

async function backToList(): Promise<void> {
  if (await page.getByTestId('desktops-screen').isVisible()) return;
  await page.keyboard.press('Control+Alt+Home');
  await page.getByTestId('bar-disconnect').click();
  await page.getByTestId('desktops-screen').waitFor();
}

test('[kiosk][novncproxy][libvirt] choosing VNC opens the same guest through noVNC', async () => {
  await backToList();
  await row('alice-linux').getByTestId('protocol-choice').selectOption('vnc');
  await row('alice-linux').getByTestId('connect').click();
  const lit = await expectGuestScreen();
  assert.ok(lit >= 1500, `the guest's console is drawn by noVNC (${lit} lit pixels)`);
  await page.getByTestId('hotkey-handle').click();
  await page.getByTestId('bar-disconnect').click();
  await page.getByTestId('desktops-screen').waitFor();
});

test('[kiosk][nova] Shut down asks first, then the desktop shows Shut off and cannot be connected; Start brings it back', async () => {
  await backToList();
  const spare = row('alice-spare');
  await spare.getByTestId('power-stop').click();
  await page.getByTestId('confirm-no').click();
  assert.equal(await spare.getAttribute('data-status'), 'ACTIVE', 'cancel does nothing');
  await spare.getByTestId('power-stop').click();
  await page.getByTestId('confirm-yes').click();
  await page.getByTestId('notice').filter({ hasText: 'alice-spare: shutting down.' }).waitFor();
  for (let i = 0; i < 30 && (await spare.getAttribute('data-status')) !== 'SHUTOFF'; i += 1) {
    await page.waitForTimeout(1000);
    await page.getByTestId('refresh').click();
  }
  assert.equal(await spare.getByTestId('desktop-state').innerText(), 'Shut off');
  assert.equal(await spare.getByTestId('connect').isDisabled(), true);
  await spare.getByTestId('power-start').click();
  await page.getByTestId('confirm-yes').click();
  for (let i = 0; i < 30 && (await spare.getAttribute('data-status')) !== 'ACTIVE'; i += 1) {
    await page.waitForTimeout(1000);
    await page.getByTestId('refresh').click();
  }
  assert.equal(await spare.getAttribute('data-status'), 'ACTIVE');
});

test('[kiosk] log out returns to the login screen and the page never showed an error', async () => {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-screen').waitFor();
  assert.deepEqual(pageErrors, []);
});
