/**
 * The real kiosk in its real controller's fleet (issue 11, test/kiosk/FLEET-SCENARIOS.md): the
 * controller with its static backend and its fleet in SQLite in a fresh stateDir, the browser shell
 * as its own process with its page in Chromium, on an Xvfb screen of its own (for the screenshot
 * command), and one cheap VNC desktop (Xvnc) for a seat session. The administrator works through
 * the admin API only (ADMIN_ROUTES), as the admin page does.
 *
 * One controller and one kiosk for the whole file: every step waits on the kiosk's real check-ins,
 * every 10 s (plus jitter), the controller's shortest interval.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { hashPin } from '../../app/core/system/admin-pin.js';
import type { CommandRecord, KioskDetail, KioskSummary } from '../../contract/fleet-admin.js';
import { ADMIN_ROUTES, KIOSK_SCREENSHOT_ROUTE, pathOf } from '../../contract/routes.js';
import { jsonLines } from '../../controller/core/log.js';
import { hashPassword } from '../../controller/core/password-hash.js';
import { launchChromium, openKioskPage, startKiosk, type KioskProcess } from '../support/kiosk.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';
import { exists, startDaemon, waitFor, type Daemon } from '../support/system-daemons.js';

// This file's share of the kiosk tests' range: ports 16320-16329, X displays :93 (kiosk screen), :94 (VNC desktop).
const PORTS = { controller: 16320, vnc: 16321 };
const KIOSK_DISPLAY = ':93';
const VNC_DISPLAY = ':94';
const CHECK_IN_SECONDS = 10;
/** One check-in interval with its jitter, and the time a check-in's round trip takes. */
const ONE_CHECK_IN_MS = CHECK_IN_SECONDS * 1.1 * 1000 + 3000;
const PERSON = { user: 'kim', password: 'kim-fleet-pass-4711' };
const ADMIN = { user: 'boss', password: 'boss-fleet-pass-0815' };
const ADMIN_PIN = '2468';

let work: string;
let stateDir: string;
let controllerLog: string[];
let ctl: StaticController;
let adminToken: string;
let xvfb: Daemon;
let xvnc: Daemon;
let kiosk: KioskProcess;
let browser: Browser;
let page: Page;
let kioskId: string;
/** The first kiosk's settings, kept by its restart: removed at the end. */
let keptSettingsDir: string | undefined;

const admin = {
  kiosks: async (): Promise<KioskSummary[]> => {
    const answer = await ctl.call(ADMIN_ROUTES.kiosks, { token: adminToken });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body.kiosks as KioskSummary[];
  },
  detail: async (id = kioskId): Promise<KioskDetail> => {
    const answer = await ctl.call(ADMIN_ROUTES.kiosk, { token: adminToken, params: { id } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as KioskDetail;
  },
};

/** The MACs of this machine's own network cards (those with a device behind them), read here, not by the kiosk's code. */
function thisMachinesMacs(): string[] {
  const base = '/sys/class/net';
  return readdirSync(base).filter((iface) => iface !== 'lo' && existsSync(path.join(base, iface, 'device')))
    .map((iface) => readFileSync(path.join(base, iface, 'address'), 'utf8').trim().toLowerCase());
}

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-kiosk-fleet-'));
  stateDir = path.join(work, 'state');
  controllerLog = [];
  xvnc = startDaemon('Xvnc', [VNC_DISPLAY, '-geometry', '640x480', '-depth', '24', '-rfbport', String(PORTS.vnc), '-localhost', '-interface', '127.0.0.1', '-SecurityTypes', 'None', '-nolisten', 'tcp']);
  xvfb = startDaemon('Xvfb', [KIOSK_DISPLAY, '-screen', '0', '1024x768x24', '-nolisten', 'tcp']);
  const [person, boss] = await Promise.all([hashPassword(PERSON.password), hashPassword(ADMIN.password)]);
  ctl = await startStaticController({
    workDir: work, port: PORTS.controller, stateDir, fleet: { checkInSeconds: CHECK_IN_SECONDS },
    logger: jsonLines({ write: (line: string) => void controllerLog.push(line) }),
    inventory: `
users:
  - { name: ${PERSON.user}, password: "${person}" }
  - { name: ${ADMIN.user}, password: "${boss}", admin: true }
desktops:
  - id: lab-vnc
    name: Lab desk
    guestOs: { family: other }
    endpoints: { vnc: { host: 127.0.0.1, port: ${PORTS.vnc} } }
    users: [${PERSON.user}]
` });
  adminToken = await ctl.login(ADMIN.user, ADMIN.password);
  await waitFor('Xvfb', () => exists(`/tmp/.X11-unix/X${KIOSK_DISPLAY.slice(1)}`));
  await waitFor('Xvnc', () => exists(`/tmp/.X11-unix/X${VNC_DISPLAY.slice(1)}`));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await kiosk?.stop();
  if (keptSettingsDir) rmSync(keptSettingsDir, { recursive: true, force: true });
  await ctl?.close();
  await xvnc?.stop();
  await xvfb?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('[kiosk][fleet] a real kiosk in its real controller\'s fleet', () => {
  it('enrols with the site token of its preset: online with its inventory, its credential 0600, "Enrolled as" on its admin screen', async () => {
    const made = await ctl.call(ADMIN_ROUTES.newSiteToken, { token: adminToken, body: { label: 'lab 3' } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    kiosk = await startKiosk({
      preset: `controller = ${ctl.url}\nfleet_token = ${made.body.token}\nadmin_pin = ${await hashPin(ADMIN_PIN)}\n`,
      env: { DISPLAY: KIOSK_DISPLAY },
    });
    ({ page } = await openKioskPage(browser, kiosk));

    const listed = await waitFor('the kiosk in the fleet', async () => (await admin.kiosks()).find((k) => k.state === 'online' && k.kioskVersion !== null));
    kioskId = listed.id;
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    assert.equal(listed.kioskVersion, version);
    assert.equal(listed.hostname, (await import('node:os')).hostname());
    const detail = await admin.detail();
    assert.deepEqual([...detail.inventory!.macs].sort(), thisMachinesMacs().sort());
    assert.ok(detail.inventory!.macs.length > 0, 'this machine has a network card');

    const credential = path.join(kiosk.settingsDir, 'fleet', 'credential.json');
    assert.equal(statSync(credential).mode & 0o777, 0o600);
    assert.equal(JSON.parse(readFileSync(credential, 'utf8')).kioskId, kioskId);

    await page.getByTestId('open-admin').click();
    await page.getByTestId('admin-pin').fill(ADMIN_PIN);
    await page.getByTestId('admin-unlock').click();
    const fleet = page.getByTestId('fleet-state');
    await fleet.waitFor();
    assert.equal(await fleet.getAttribute('data-state'), 'enrolled');
    assert.match(await fleet.innerText(), new RegExp(`Enrolled as ${listed.name}\\.`));
    await page.getByTestId('admin-lock').click();
    await page.getByTestId('login-screen').waitFor();
  });

  it('layered settings: the site\'s language turns the login screen Chinese at the next check-in; the kiosk\'s auto_connect opens its desktop at login; both reported applied with the revision', async () => {
    assert.equal((await ctl.call(ADMIN_ROUTES.siteSettings, { token: adminToken, body: { settings: { language: 'zh-CN' } } })).status, 200);
    const updated = await ctl.call(ADMIN_ROUTES.updateKiosk, { token: adminToken, params: { id: kioskId }, body: { settings: { auto_connect: 'Lab desk' } } });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    const revision = (updated.body as KioskDetail).effective.revision;
    assert.deepEqual((updated.body as KioskDetail).effective.sources, { language: 'site', auto_connect: 'kiosk' });

    // The person at the kiosk does nothing: the screen changes by itself.
    await page.getByTestId('login-screen').getByText('用户名').waitFor({ timeout: ONE_CHECK_IN_MS });
    assert.match(await page.getByTestId('login-submit').innerText(), /登录/);

    const applied = await waitFor('the applied settings reported', async () => {
      const detail = await admin.detail();
      return detail.applied?.revision === revision ? detail.applied : undefined;
    }, 2 * ONE_CHECK_IN_MS);
    assert.deepEqual(applied.keys, { language: 'applied', auto_connect: 'applied' });
    assert.deepEqual(applied.problems, []);
    assert.equal((await admin.kiosks())[0]!.settingsApplied, true);
  });

  it('seat session: the person and the desktop opened for them on the admin page; their password nowhere in the controller\'s database or log', async () => {
    await page.getByTestId('username').fill(PERSON.user);
    await page.getByTestId('password').fill(PERSON.password);
    await page.getByTestId('login-submit').click();
    // auto_connect from the kiosk's layer: the desktop opens at once.
    await page.locator('[data-testid=viewer][data-connected=true]').waitFor({ timeout: 20_000 });

    const session = await waitFor('the seat session on the admin page', async () => {
      const { summary } = await admin.detail();
      return summary.session?.desktop ? summary.session : undefined;
    }, 2 * ONE_CHECK_IN_MS);
    assert.equal(session.user, PERSON.user);
    assert.equal(session.desktop, 'Lab desk');
    assert.equal(session.protocol, 'vnc');

    const files = readdirSync(stateDir).filter((file) => file.startsWith('fleet.sqlite'));
    assert.ok(files.includes('fleet.sqlite'), files.join(', '));
    for (const file of files) {
      assert.equal(readFileSync(path.join(stateDir, file)).includes(PERSON.password), false, `the password is in ${file}`);
    }
    assert.ok(controllerLog.some((line) => line.includes('fleet-enrolment')), 'the controller logged the fleet');
    assert.equal(controllerLog.some((line) => line.includes(PERSON.password)), false, 'the password is in the controller\'s log');
  });

  it('commands identify, screenshot and logout: the name on screen, the picture on the admin page, the login screen back; each done exactly once', async () => {
    const { summary } = await admin.detail();
    // The three arrive in one check-in and run one after the other: the page's notices are noted as
    // they come, the identify notice may be replaced by the screenshot's within a second.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { fleetNotices: string[] }).fleetNotices = seen;
      new MutationObserver(() => {
        for (const notice of document.querySelectorAll('[data-testid=fleet-identify], [data-testid=fleet-screenshot]')) {
          const text = `${notice.getAttribute('data-testid')}: ${notice.textContent}`;
          if (!seen.includes(text)) seen.push(text);
        }
      }).observe(document.body, { subtree: true, childList: true });
    });
    for (const kind of ['identify', 'screenshot', 'logout'] as const) {
      const issued = await ctl.call(ADMIN_ROUTES.command, { token: adminToken, params: { id: kioskId }, body: { kind } });
      assert.equal(issued.status, 201, JSON.stringify(issued.body));
    }
    await page.waitForFunction(() => (window as unknown as { fleetNotices: string[] }).fleetNotices.length >= 2, undefined, { timeout: ONE_CHECK_IN_MS + 10_000 });
    assert.deepEqual(await page.evaluate(() => (window as unknown as { fleetNotices: string[] }).fleetNotices), [
      `fleet-identify: 本终端是${summary.name}`, // the site's language since the second check-in
      'fleet-screenshot: 管理员截取了此屏幕的画面。',
    ]);
    await page.getByTestId('login-screen').waitFor({ timeout: 10_000 });

    const commands = await waitFor('the commands answered', async () => {
      const { commands } = await admin.detail();
      return commands.every((c) => c.state !== 'pending') ? commands : undefined;
    }, 2 * ONE_CHECK_IN_MS);
    const outcome = (c: CommandRecord): string => `${c.kind} ${c.state}: ${c.detail}`;
    assert.deepEqual(commands.map((c) => `${c.kind} ${c.state}`).sort(), ['identify done', 'logout done', 'screenshot done'], commands.map(outcome).join('\n'));
    assert.match(commands.find((c) => c.kind === 'logout')!.detail!, new RegExp(`logged ${PERSON.user} out`));

    const picture = await fetch(`${ctl.url}${pathOf(KIOSK_SCREENSHOT_ROUTE, { id: kioskId })}`, { headers: { Authorization: `Bearer ${adminToken}` } });
    assert.equal(picture.status, 200);
    assert.equal(picture.headers.get('content-type'), 'image/png');
    const png = Buffer.from(await picture.arrayBuffer());
    assert.ok(png.subarray(1, 4).equals(Buffer.from('PNG')), 'a PNG');
    assert.equal(png.readUInt32BE(16), 1024, 'the width of the kiosk\'s X screen');
  });

  it('command restart-app: the kiosk app ends cleanly; started again (as systemd does on the appliance) it reports the command done and a restart, no crash', async () => {
    const { summary } = await admin.detail();
    const issued = await ctl.call(ADMIN_ROUTES.command, { token: adminToken, params: { id: kioskId }, body: { kind: 'restart-app' } });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    await waitFor('the kiosk app ended', async () => (kiosk.alive() ? undefined : true), ONE_CHECK_IN_MS + 10_000);
    // Not kiosk.stop(): the process has ended, and stop() would delete the settings it made.
    keptSettingsDir = kiosk.settingsDir;
    // What systemd's Restart= does on the appliance: the same settings, the same preset file.
    kiosk = await startKiosk({ settingsDir: keptSettingsDir, env: { DISPLAY: KIOSK_DISPLAY } });
    ({ page } = await openKioskPage(browser, kiosk));
    const restart = await waitFor('the restart-app command answered', async () => {
      const { commands } = await admin.detail();
      const command = commands.find((c) => c.kind === 'restart-app');
      return command && command.state !== 'pending' ? command : undefined;
    }, 2 * ONE_CHECK_IN_MS);
    assert.equal(restart.state, 'done', restart.detail ?? '');
    const totals = await waitFor('the restart counted', async () => {
      const text = await (await fetch(`${ctl.url}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name}\\{kiosk="${summary.name}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
      return value('thinkiosk_fleet_kiosk_restarts_total') >= 1 ? { restarts: value('thinkiosk_fleet_kiosk_restarts_total'), crashes: value('thinkiosk_fleet_kiosk_crashes_total') } : undefined;
    }, 2 * ONE_CHECK_IN_MS);
    assert.deepEqual(totals, { restarts: 1, crashes: 0 }, 'a restart asked for is no crash');
    assert.equal((await admin.detail()).summary.lastCrash, null);
  });

  it('forgotten by the administrator: the next check-in gets 401 and the kiosk enrols again by itself, under a new id', async () => {
    const forgotten = await ctl.call(ADMIN_ROUTES.forgetKiosk, { token: adminToken, params: { id: kioskId } });
    assert.equal(forgotten.status, 204);
    const again = await waitFor('the kiosk enrolled again', async () => (await admin.kiosks()).find((k) => k.id !== kioskId && k.state === 'online'), 2 * ONE_CHECK_IN_MS);
    assert.equal((await admin.kiosks()).length, 1, 'one kiosk, not two');
    assert.equal(JSON.parse(readFileSync(path.join(kiosk.settingsDir, 'fleet', 'credential.json'), 'utf8')).kioskId, again.id);
    assert.match(kiosk.output(), /no longer knows this kiosk/);
    assert.ok(kiosk.alive());
    await page.getByTestId('login-screen').waitFor();
  });
});
