/**
 * First start: the setup screen checks that an address really is a thinkiosk controller before
 * saving it together with the new admin PIN (whoever sets a new kiosk up owns it). Real peers for
 * every answer: a closed port, a plain web server, a TLS server with a certificate nobody trusts,
 * and a real controller (static backend). A netbooted kiosk offers no such claim.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { hashPassword } from '../../controller/core/password-hash.js';
import { startStaticController } from '../support/static-harness.js';
import { launchChromium, openKioskPage, startKiosk } from '../support/kiosk.js';

// K2's range: ports 16128 (controller) and 16129 (a controller that comes up after the kiosk).
const CONTROLLER_PORT = 16128;
const LATE_CONTROLLER_PORT = 16129;

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

test('setup screen: refuses what is not a controller, with the reason, and saves nothing', async (t) => {
  const browser = await launchChromium();
  const kiosk = await startKiosk();
  const plain = http.createServer((_req, res) => { res.writeHead(404, { 'content-type': 'text/html' }); res.end('<h1>Not Found</h1>'); });
  const dir = mkdtempSync(join(tmpdir(), 'thinkiosk-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const tls = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => res.end('{}'));
  t.after(async () => {
    await browser.close();
    await kiosk.stop();
    plain.close();
    tls.close();
  });
  const plainPort = await listen(plain);
  const tlsPort = await listen(tls);
  const closed = http.createServer();
  const closedPort = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));

  const { page, pageErrors } = await openKioskPage(browser, kiosk);
  await page.getByTestId('setup-screen').waitFor();
  const attempt = async (address: string): Promise<{ kind: string | null; text: string }> => {
    await page.getByTestId('controller-url').fill(address);
    await page.getByTestId('setup-pin').fill('2468');
    await page.getByTestId('setup-pin-again').fill('2468');
    await page.getByTestId('controller-save').click();
    const error = page.getByTestId('error');
    await error.waitFor({ timeout: 20_000 });
    const result = { kind: await error.getAttribute('data-kind'), text: await error.innerText() };
    await page.getByTestId('setup-screen').waitFor();
    return result;
  };

  const refused = await attempt(`http://127.0.0.1:${closedPort}`);
  assert.equal(refused.kind, 'unreachable');
  assert.match(refused.text, /cannot be reached/);

  const notController = await attempt(`http://127.0.0.1:${plainPort}`);
  assert.equal(notController.kind, 'not-a-controller');
  assert.match(notController.text, /not a thinkiosk controller/);

  const untrusted = await attempt(`https://127.0.0.1:${tlsPort}`);
  assert.equal(untrusted.kind, 'tls');
  assert.match(untrusted.text, /certificate/);

  const nonsense = await attempt('ftp://what');
  assert.equal(nonsense.kind, 'invalid-input');

  const state = JSON.parse(readFileSync(join(kiosk.settingsDir, 'settings.json'), 'utf8') || '{}') as { controllerUrl?: unknown; adminPinHash?: unknown };
  assert.equal(state.controllerUrl ?? null, null, 'nothing saved for a failed check');
  assert.equal(state.adminPinHash ?? null, null, 'no PIN saved for a failed check either');
  assert.deepEqual(pageErrors, []);
});

test('[kiosk] a new kiosk is set up with its controller and a new admin PIN together; its settings then open only with that PIN', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'thinkiosk-claim-'));
  const ctl = await startStaticController({ workDir: work, port: CONTROLLER_PORT, inventory: `users: [{ name: ana, password: "${await hashPassword('ana-pw')}" }]
desktops: []
` });
  const browser = await launchChromium();
  const kiosk = await startKiosk({ env: { THINKIOSK_BOOT_SOURCE: '' } });
  t.after(async () => {
    await browser.close();
    await kiosk.stop();
    await ctl.close();
  });
  const { page, pageErrors } = await openKioskPage(browser, kiosk);
  await page.locator('[data-testid=setup-screen][data-access=claim]').waitFor();
  await page.getByTestId('controller-url').fill(ctl.url);
  await page.getByTestId('setup-pin').fill('13579');
  await page.getByTestId('setup-pin-again').fill('13578');
  await page.getByTestId('controller-save').click();
  assert.match(await page.getByTestId('error').innerText(), /two PINs differ/);
  await page.getByTestId('setup-pin').fill('13');
  await page.getByTestId('setup-pin-again').fill('13');
  await page.getByTestId('controller-save').click();
  assert.match(await page.getByTestId('error').innerText(), /4 to 12 digits/);
  await page.getByTestId('setup-pin').fill('13579');
  await page.getByTestId('setup-pin-again').fill('13579');
  await page.getByTestId('controller-save').click();
  await page.getByTestId('login-screen').waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId('notice').innerText(), /Found Static test site/);

  const saved = readFileSync(join(kiosk.settingsDir, 'settings.json'), 'utf8');
  assert.match(saved, /"adminPinHash": "scrypt\$/);
  assert.doesNotMatch(saved, /13579/, 'the PIN itself is not stored');

  await page.getByTestId('open-admin').click();
  await page.getByTestId('admin-pin').fill('0000');
  await page.getByTestId('admin-unlock').click();
  assert.equal(await page.getByTestId('error').getAttribute('data-kind'), 'locked');
  await page.getByTestId('admin-pin').fill('13579');
  await page.getByTestId('admin-unlock').click();
  await page.getByTestId('admin-panel').waitFor();
  assert.equal(await page.getByTestId('admin-controller-url').inputValue(), `${ctl.url}/`);
  await page.getByTestId('admin-lock').click();
  await page.getByTestId('login-screen').waitFor();
  assert.deepEqual(pageErrors, []);
  rmSync(work, { recursive: true, force: true });
});

test('[kiosk][netboot] a netbooted kiosk without a controller or PIN from its boot server offers no setup: it says where they are set', async (t) => {
  const browser = await launchChromium();
  const kiosk = await startKiosk({ env: { THINKIOSK_BOOT_SOURCE: 'netboot from 10.0.0.2' } });
  t.after(async () => {
    await browser.close();
    await kiosk.stop();
  });
  const { page, pageErrors } = await openKioskPage(browser, kiosk);
  await page.locator('[data-testid=setup-screen][data-access=none]').waitFor();
  assert.match(await page.getByTestId('setup-explanation').innerText(), /started from the network \(netboot from 10\.0\.0\.2\).*set on the boot server/);
  assert.equal(await page.getByTestId('controller-url').count(), 0, 'no address field');
  assert.equal(await page.getByTestId('open-admin').count(), 0, 'no way into settings');
  // Not even past the page.
  const key = /#key=(.+)$/.exec(kiosk.url)![1]!;
  const claim = await fetch(new URL('/rpc/claimKiosk', kiosk.url), { method: 'POST', headers: { 'x-thinkiosk-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://127.0.0.1:9', pin: '1234' }) }).then((r) => r.json());
  assert.equal(claim.ok, false);
  assert.equal(claim.error.kind, 'locked');
  assert.deepEqual(pageErrors, []);
});

test('[kiosk] a settings file with many problems on a 1280x800 screen: the setup card starts with its heading on the screen, and its form can be scrolled to', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'thinkiosk-problems-'));
  const problems = join(dir, 'preset-problems.txt');
  // What the image's apply-preset wrote for the image test's bad settings file (4 lines that wrap).
  writeFileSync(problems, [
    'thinkiosk.conf line 2: timezone must be a time zone like Europe/Berlin or Asia/Shanghai (got "Mars/Olympus_Mons")',
    'thinkiosk.conf line 3: hostname must be 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen (got "bad_host!")',
    'thinkiosk.conf line 4: unknown key "frobnicate" (known: controller, language, admin_pin, idle_logout_minutes, auto_connect, usb_redirection, fleet_token, hostname, timezone, keyboard, keyboard_variant, wifi_ssid, wifi_password, boot_server, update_version, update_url, update_allow_downgrade, update_trial_minutes, ssh_key)',
  ].join('\n'));
  const browser = await launchChromium();
  const kiosk = await startKiosk({ preset: 'language = fr\n', env: { THINKIOSK_PRESET_PROBLEMS: problems } });
  t.after(async () => {
    await browser.close();
    await kiosk.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const { page, pageErrors } = await openKioskPage(browser, kiosk, { width: 1280, height: 800 });
  await page.getByTestId('setup-screen').waitFor();
  const heading = await page.getByRole('heading', { level: 1 }).boundingBox();
  assert.ok(heading && heading.y >= 0 && heading.y + heading.height <= 800, `the heading is on the screen (at y ${heading?.y})`);
  assert.match(await page.getByTestId('setup-screen').innerText(), /line 4: unknown key "frobnicate"/, 'every problem is there (the list scrolls in its box)');
  const save = page.getByRole('button', { name: 'Check and save' });
  await save.scrollIntoViewIfNeeded();
  const box = await save.boundingBox();
  assert.ok(box && box.y >= 0 && box.y + box.height <= 800, `the form's button can be brought onto the screen (at y ${box?.y})`);
  assert.deepEqual(pageErrors, []);
});

test('[kiosk] a preset controller not reachable when the kiosk starts (network still coming up): its name appears on the login screen once it answers, and what was typed stays', async (t) => {
  const url = `http://127.0.0.1:${LATE_CONTROLLER_PORT}`;
  const browser = await launchChromium();
  const kiosk = await startKiosk({ preset: `controller = ${url}\n` });
  const work = mkdtempSync(join(tmpdir(), 'thinkiosk-late-'));
  t.after(async () => {
    await browser.close();
    await kiosk.stop();
    rmSync(work, { recursive: true, force: true });
  });
  const { page, pageErrors } = await openKioskPage(browser, kiosk);
  const name = page.getByTestId('controller-name');
  assert.equal(await name.innerText(), `Desktops from ${url}`);
  await page.getByTestId('username').fill('ana');
  const late = await startStaticController({ workDir: work, port: LATE_CONTROLLER_PORT, inventory: 'users: []\ndesktops: []\n' });
  t.after(() => late.close());
  await page.waitForFunction(() => document.querySelector('[data-testid=controller-name]')?.textContent === 'Desktops from Static test site', undefined, { timeout: 20_000 });
  assert.equal(await page.getByTestId('username').inputValue(), 'ana', 'the login screen was drawn again and lost what was typed');
  assert.deepEqual(pageErrors, []);
});
