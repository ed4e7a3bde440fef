/**
 * The real kiosk against a controller with the static backend and real local desktops (Xvnc with a
 * VNC password, QEMU SPICE with a ticket, freerdp-shadow with NLA): each protocol must put the
 * known picture on screen — in the page for VNC and SPICE, on the kiosk's X display for the native
 * viewers (xfreerdp, remote-viewer). Plus the error paths a person at the kiosk meets: RDP wrong
 * password, a console that drops mid-session (Reconnect), a server that is not a console, a shut-off
 * desktop, and a missing native client.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { hashPassword } from '../../controller/core/password-hash.js';
import { startLocalDesktops, type LocalDesktops } from '../../scripts/local-desktops/start.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';
import { exists, startDaemon, waitFor, type Daemon } from '../support/system-daemons.js';
import { launchChromium, openKioskPage, startKiosk, type KioskProcess } from '../support/kiosk.js';
import { checkQuadPattern } from '../support/pattern.js';
import { screenshotX } from '../support/x-screenshot.js';

// This file's share of the kiosk tests' range: ports 17001-17010, X displays :61 (VNC), :62 (RDP), :63 (kiosk screen).
const PORTS = { vnc: 17001, spice: 17002, rdp: 17003, closed: 17004, notConsole: 17005, controller: 17010 };
const KIOSK_DISPLAY = ':63';

let work: string;
let desktops: LocalDesktops;
let ctl: StaticController;
let xvfb: Daemon;
let notConsole: net.Server;
let kiosk: KioskProcess;
let browser: Browser;
let page: Page;
let pageErrors: string[];

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-kiosk-static-'));
  desktops = await startLocalDesktops({
    workDir: path.join(work, 'desktops'), vncPort: PORTS.vnc, spicePort: PORTS.spice, rdpPort: PORTS.rdp, displayBase: 61,
    vncPassword: 'vncpw123', spicePassword: 'spice-tkt', rdpUser: 'kim', rdpPassword: 'kim-pass',
  });
  // Accepts TCP (so the controller sees it up) but speaks no remote-desktop protocol.
  notConsole = net.createServer((socket) => {
    socket.on('error', () => undefined); // the relay resets it; that is the point
    socket.end('HTTP/1.0 400 Bad Request\r\n\r\n');
  });
  await new Promise<void>((resolve) => notConsole.listen(PORTS.notConsole, '127.0.0.1', resolve));
  const [kim, lee] = await Promise.all([hashPassword('kim-pass'), hashPassword('lee-pass')]);
  ctl = await startStaticController({
    workDir: work, port: PORTS.controller, inventory: `
users:
  - { name: kim, password: "${kim}" }
  - { name: lee, password: "${lee}" }
desktops:
  - id: win
    name: Windows desk
    guestOs: { family: windows, distro: windows, version: "11" }
    addresses: [{ ip: 127.0.0.1, mac: "52:54:00:12:34:56", network: lab }]
    endpoints: { rdp: { host: 127.0.0.1, port: ${PORTS.rdp} } }
    users: [kim, lee]
  - id: lin
    name: Linux desk
    guestOs: { family: linux, distro: debian, version: "13" }
    endpoints: { spice: { host: 127.0.0.1, port: ${PORTS.spice}, password: spice-tkt } }
    usbRedirection: false
    users: [kim]
  - id: lin-usb
    name: Linux desk with USB
    guestOs: { family: linux, distro: debian, version: "13" }
    endpoints: { spice: { host: 127.0.0.1, port: ${PORTS.spice}, password: spice-tkt } }
    users: [kim]
  - id: other
    name: Other desk
    guestOs: { family: other }
    endpoints: { vnc: { host: 127.0.0.1, port: ${PORTS.vnc}, password: vncpw123 } }
    users: [kim]
  - id: off
    name: Switched-off desk
    guestOs: { family: other }
    endpoints: { vnc: { host: 127.0.0.1, port: ${PORTS.closed} } }
    users: [kim]
  - id: bogus
    name: Not-a-console desk
    guestOs: { family: other }
    endpoints: { vnc: { host: 127.0.0.1, port: ${PORTS.notConsole} } }
    users: [kim]
` });
  xvfb = startDaemon('Xvfb', [KIOSK_DISPLAY, '-screen', '0', '1024x768x24', '-nolisten', 'tcp']);
  await waitFor('Xvfb', () => exists(`/tmp/.X11-unix/X${KIOSK_DISPLAY.slice(1)}`));
  kiosk = await startKiosk({ preset: `controller = ${ctl.url}\n`, env: { DISPLAY: KIOSK_DISPLAY } });
  browser = await launchChromium();
  ({ page, pageErrors } = await openKioskPage(browser, kiosk));
});

after(async () => {
  await browser?.close();
  await kiosk?.stop();
  await xvfb?.stop();
  notConsole?.close();
  await ctl?.close();
  await desktops?.stop();
  rmSync(work, { recursive: true, force: true });
});

const row = (id: string) => page.locator(`[data-testid=desktop][data-desktop-id="${id}"]`);

async function login(user: string, password: string): Promise<void> {
  await page.getByTestId('login-screen').waitFor();
  await page.getByTestId('username').fill(user);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('login-submit').click();
  await row('win').waitFor({ timeout: 20_000 });
}

async function pagePattern(): Promise<{ ok: boolean; detail: string }> {
  await page.locator('[data-testid=viewer][data-connected=true]').waitFor({ timeout: 30_000 });
  let result = { ok: false, detail: 'no frame' };
  for (let i = 0; i < 30 && !result.ok; i += 1) {
    await page.waitForTimeout(300);
    result = checkQuadPattern(await page.getByTestId('viewer').screenshot());
  }
  return result;
}

async function kioskScreenPattern(): Promise<{ ok: boolean; detail: string }> {
  let result = { ok: false, detail: 'no frame' };
  for (let i = 0; i < 40 && !result.ok; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    result = checkQuadPattern(await screenshotX(KIOSK_DISPLAY));
  }
  return result;
}

async function disconnectToList(): Promise<void> {
  await page.keyboard.press('Control+Alt+Home');
  await page.getByTestId('bar-disconnect').click();
  await page.getByTestId('desktops-screen').waitFor();
}

test('[kiosk][static] login lists the desktops with their protocol by OS pair; a static inventory has no power buttons', async () => {
  await login('kim', 'kim-pass');
  assert.equal(await row('win').getByTestId('desktop-protocol').innerText(), 'RDP');
  assert.equal(await row('lin').getByTestId('desktop-protocol').innerText(), 'SPICE');
  assert.equal(await row('other').getByTestId('desktop-protocol').innerText(), 'VNC');
  assert.equal(await row('win').getByTestId('desktop-mac').innerText(), '52:54:00:12:34:56');
  assert.equal(await row('off').getByTestId('desktop-state').innerText(), 'Shut off');
  assert.equal(await row('off').getByTestId('connect').isDisabled(), true, 'a shut-off desktop cannot be connected');
  assert.equal(await page.locator('[data-testid^=power-]').count(), 0);
});

test('[kiosk][static][Xvnc] VNC with a password: the known picture in the page', async () => {
  await row('other').getByTestId('connect').click();
  const result = await pagePattern();
  assert.ok(result.ok, result.detail);
  await disconnectToList();
});

test('[kiosk][static][qemu-spice] SPICE in the page (USB not allowed → spice-html5): the known picture', async () => {
  await row('lin').getByTestId('connect').click();
  const result = await pagePattern();
  assert.ok(result.ok, result.detail);
  await disconnectToList();
});

test('[kiosk][static][remote-viewer] SPICE with USB allowed opens remote-viewer on the kiosk screen', async () => {
  await row('lin-usb').getByTestId('connect').click();
  await page.getByTestId('native-running').waitFor({ timeout: 30_000 });
  const result = await kioskScreenPattern();
  assert.ok(result.ok, result.detail);
  await page.getByTestId('native-disconnect').click();
  await page.getByTestId('desktops-screen').waitFor({ timeout: 15_000 });
});

test('[kiosk][static][xfreerdp] RDP with the login credentials: xfreerdp shows the desktop; Disconnect returns to the list', async () => {
  await row('win').getByTestId('connect').click();
  await page.getByTestId('native-running').waitFor({ timeout: 30_000 });
  const result = await kioskScreenPattern();
  assert.ok(result.ok, result.detail);
  await page.getByTestId('native-disconnect').click();
  await page.getByTestId('desktops-screen').waitFor({ timeout: 15_000 });
});

test('[kiosk][static] a console ended by a controller restart says so and offers Reconnect, which opens a fresh console', async () => {
  await row('other').getByTestId('connect').click();
  assert.ok((await pagePattern()).ok);
  ctl.closeConsoles(); // the controller's relay ends every live console as it does when it stops
  const error = page.getByTestId('error');
  await error.waitFor({ timeout: 15_000 });
  assert.match(await error.innerText(), /The controller is restarting\. Connect again in a moment\./);
  await page.getByTestId('reconnect').click();
  const again = await pagePattern();
  assert.ok(again.ok, again.detail);
  await disconnectToList();
});

test('[kiosk][static] a desktop whose port is not a console: the connection fails with Reconnect / Back', async () => {
  await row('bogus').getByTestId('connect').click();
  await page.getByTestId('reconnect').waitFor({ timeout: 20_000 });
  await page.getByTestId('back').click();
  await page.getByTestId('desktops-screen').waitFor();
  // noVNC logs the garbage it got to the console; that one is expected here, nothing else is.
  assert.ok(pageErrors.every((e) => /Invalid server version|WebSocket connection to .* failed/.test(e)), pageErrors.join('\n'));
  pageErrors.length = 0;
});

test('[kiosk][static][xfreerdp] RDP refuses a user whose password it does not know: the kiosk says so', async () => {
  await page.getByTestId('logout').click();
  await login('lee', 'lee-pass');
  await row('win').getByTestId('connect').click();
  const error = page.getByTestId('error');
  await error.waitFor({ timeout: 40_000 });
  assert.equal(await error.getAttribute('data-kind'), 'wrong-password', await error.innerText());
  await page.getByTestId('back').click();
  await page.getByTestId('logout').click();
  await page.getByTestId('login-screen').waitFor();
  const unexpected = pageErrors.filter((e) => !/WebSocket connection to .* failed/.test(e));
  assert.deepEqual(unexpected, [], unexpected.join('\n'));
});

test('[kiosk][static] xfreerdp missing: the kiosk names the package to install', async (t) => {
  const bare = await startKiosk({ preset: `controller = ${ctl.url}\n`, env: { DISPLAY: KIOSK_DISPLAY, PATH: '/nonexistent' } });
  const second = await openKioskPage(browser, bare);
  t.after(() => bare.stop());
  page = second.page;
  await login('kim', 'kim-pass');
  await row('win').getByTestId('connect').click();
  const error = page.getByTestId('error');
  await error.waitFor({ timeout: 20_000 });
  assert.match(await error.innerText(), /freerdp2-x11/);
});

test('[kiosk][static] auto_connect in the preset (a netbooted lab PC\'s own desktop): opened right after login, once; a desktop that is off is named and the list stays', async (t) => {
  const auto = await startKiosk({ preset: `controller = ${ctl.url}\nauto_connect = Other desk\n`, env: { DISPLAY: KIOSK_DISPLAY } });
  const second = await openKioskPage(browser, auto);
  t.after(() => auto.stop());
  page = second.page;
  await page.getByTestId('login-screen').waitFor();
  await page.getByTestId('username').fill('kim');
  await page.getByTestId('password').fill('kim-pass');
  await page.getByTestId('login-submit').click();
  const seen = await pagePattern();
  assert.ok(seen.ok, `the preset's desktop (by name) opened with its picture: ${seen.detail}`);
  await disconnectToList();
  await page.waitForTimeout(1500);
  assert.equal(await page.locator('[data-testid=viewer]').count(), 0, 'back at the list, the desktop is not opened again');

  const off = await startKiosk({ preset: `controller = ${ctl.url}\nauto_connect = off\n`, env: { DISPLAY: KIOSK_DISPLAY } });
  const third = await openKioskPage(browser, off);
  t.after(() => off.stop());
  page = third.page;
  await login('kim', 'kim-pass');
  await page.getByTestId('desktops-status').getByText(/set to open Switched-off desk after login, but it is not running/).waitFor({ timeout: 10_000 });
});
