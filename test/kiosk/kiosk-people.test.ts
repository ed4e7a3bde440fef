/**
 * One kiosk, three people one after another, on the real page in Chromium against a real controller
 * (static backend): the first logs out, the second walks away (idle logout), the third's session
 * expires. After each, the next person finds an empty login form in the kiosk's own language (the
 * first person had switched it), no trace of the previous person in the page (name, desktops, form
 * values, storage), and afterwards neither the settings file nor the kiosk's log holds a password
 * (user names in the log are fine).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { buildController } from '../../controller/app.js';
import { parseConfig } from '../../controller/core/config.js';
import { silentLogger } from '../../controller/core/log.js';
import { hashPassword } from '../../controller/core/password-hash.js';
import { hashPin } from '../../app/core/system/admin-pin.js';
import { launchChromium, openKioskPage, startKiosk, type KioskProcess } from '../support/kiosk.js';

// K2's range: port 16127 (controller).
const PORT = 16127;
/** The controller ends every session after this long: the third person's expires. */
const SESSION_SECONDS = 20;
const IDLE_SECONDS = 5;
const PEOPLE = [
  { user: 'ana.li', password: 'Ana-pw-50913', desk: 'Desk of ana.li' },
  { user: 'ben.okafor', password: 'Ben-pw-72214', desk: 'Desk of ben.okafor' },
  { user: 'cat.meyer', password: 'Cat-pw-33870', desk: 'Desk of cat.meyer' },
] as const;

let work: string;
let controller: { server: Server; close(): void };
let browser: Browser;
let kiosk: KioskProcess;
let page: Page;
let pageErrors: string[];

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-kiosk-people-'));
  const inventoryFile = path.join(work, 'inventory.yaml');
  const users = await Promise.all(PEOPLE.map(async (p) => `  - { name: ${p.user}, password: "${await hashPassword(p.password)}" }`));
  const desktops = PEOPLE.map((p, i) => `  - { id: d${i}, name: "${p.desk}", guestOs: { family: other }, endpoints: { vnc: { host: 127.0.0.1, port: 9 } }, users: [${p.user}] }`);
  writeFileSync(inventoryFile, `users:\n${users.join('\n')}\ndesktops:\n${desktops.join('\n')}\n`);
  const config = parseConfig({
    name: 'People test site', backend: 'static', listen: { host: '127.0.0.1', port: PORT },
    sessionKeys: [Buffer.alloc(32, 5).toString('base64')], sessionMaxSeconds: SESSION_SECONDS,
    static: { inventoryFile, probeTimeoutMs: 500 },
  }, 'people test');
  const built = buildController(config, silentLogger);
  await built.app.listen({ port: PORT, host: '127.0.0.1' });
  controller = { server: built.server, close: () => { built.closeConsoles(); built.server.closeAllConnections(); void built.app.close(); } };

  kiosk = await startKiosk({ preset: `controller = http://127.0.0.1:${PORT}\nlanguage = en\nadmin_pin = ${await hashPin('8080')}\n` });
  browser = await launchChromium();
  ({ page, pageErrors } = await openKioskPage(browser, kiosk));
  // The administrator shortens idle logout (the admin screen offers minutes; the API takes seconds).
  const key = /#key=(.+)$/.exec(kiosk.url)![1]!;
  const rpc = (method: string, args: unknown) => fetch(new URL(`/rpc/${method}`, kiosk.url), { method: 'POST', headers: { 'x-thinkiosk-key': key, 'content-type': 'application/json' }, body: JSON.stringify(args) }).then((r) => r.json() as Promise<{ ok: boolean }>);
  assert.equal((await rpc('adminUnlock', { pin: '8080' })).ok, true);
  assert.equal((await rpc('adminSetIdleLogout', { seconds: IDLE_SECONDS })).ok, true);
  assert.equal((await rpc('adminLock', {})).ok, true);
});

after(async () => {
  await browser?.close();
  await kiosk?.stop();
  controller?.close();
  rmSync(work, { recursive: true, force: true });
});

async function logIn(person: (typeof PEOPLE)[number]): Promise<void> {
  await page.getByTestId('username').fill(person.user);
  await page.getByTestId('password').fill(person.password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid=desktop-name]', { hasText: person.desk }).waitFor({ timeout: 20_000 });
}

/** What the next person finds: an empty form in the kiosk's language, nothing of anyone before. */
async function assertNothingLeftOf(before: readonly (typeof PEOPLE)[number][], notice: RegExp | null): Promise<void> {
  await page.getByTestId('login-screen').waitFor();
  await page.locator('h1', { hasText: 'Log in' }).waitFor({ timeout: 5000 });
  if (notice) assert.match(await page.getByTestId('notice').innerText(), notice);
  assert.equal(await page.getByTestId('username').inputValue(), '', 'the user name field is empty');
  assert.equal(await page.getByTestId('password').inputValue(), '', 'the password field is empty');
  assert.equal(await page.getByTestId('domain').inputValue(), '');
  assert.equal(await page.locator('[data-testid=desktop-list], [data-testid=desktop]').count(), 0, 'no desktop list in the page');
  const traces = await page.evaluate(() => ({
    html: document.documentElement.outerHTML,
    values: [...document.querySelectorAll('input')].map((input) => input.value).join('|'),
    storage: JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }),
  }));
  for (const person of before) {
    for (const secret of [person.user, person.password, person.desk]) {
      for (const [where, text] of Object.entries(traces)) assert.ok(!text.includes(secret), `"${secret}" still in the page's ${where}`);
    }
  }
}

test('[kiosk] three people one after another: each next person\'s login screen is empty and in the kiosk\'s language, with nothing of the one before', async () => {
  const [ana, ben, cat] = PEOPLE;
  await page.getByTestId('login-screen').waitFor();

  // ana switches the login screen to Chinese for herself, works, logs out.
  await page.getByTestId('language-switch').click();
  await page.locator('h1', { hasText: '登录' }).waitFor();
  await logIn(ana);
  assert.match(await page.getByTestId('current-user').innerText(), /ana\.li/);
  await page.getByTestId('logout').click();
  await assertNothingLeftOf([ana], null);

  // ben logs in and walks away: idle logout.
  await logIn(ben);
  await page.getByTestId('login-screen').waitFor({ timeout: (IDLE_SECONDS + 15) * 1000 });
  await assertNothingLeftOf([ana, ben], /inactivity/);
  // The browser shell starts a fresh Chromium at every session end: a fresh page says why too.
  await page.reload();
  await assertNothingLeftOf([ana, ben], /inactivity/);

  // cat stays busy (the page reports input) until the controller's session ends.
  await logIn(cat);
  const t0 = Date.now();
  while (Date.now() - t0 < (SESSION_SECONDS + 15) * 1000 && await page.getByTestId('desktops-screen').count()) {
    await page.mouse.move(200 + Math.random() * 100, 300);
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForTimeout(1000);
  }
  await assertNothingLeftOf([ana, ben, cat], /session has ended/);

  const settings = readFileSync(path.join(kiosk.settingsDir, 'settings.json'), 'utf8');
  const log = kiosk.output();
  for (const person of PEOPLE) {
    assert.ok(!settings.includes(person.user) && !settings.includes(person.password), `${person.user} in settings.json`);
    assert.ok(!log.includes(person.password), `${person.user}'s password in the kiosk's log`);
  }
  assert.match(log, /session of ana\.li ended \(logout\)/);
  assert.match(log, /session of ben\.okafor ended \(idle\)/);
  assert.match(log, /session of cat\.meyer ended \(expired\)/);
  assert.deepEqual(pageErrors, []);
});
