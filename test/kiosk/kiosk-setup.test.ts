/**
 * First start: the setup screen checks that an address really is a thinkiosk controller before
 * saving it. Real peers for every answer: a closed port, a plain web server, a TLS server with a
 * certificate nobody trusts, and a real controller (static backend).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { launchChromium, openKioskPage, startKiosk } from '../support/kiosk.js';

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

  const state = JSON.parse(readFileSync(join(kiosk.settingsDir, 'settings.json'), 'utf8') || '{}') as { controllerUrl?: unknown };
  assert.equal(state.controllerUrl ?? null, null, 'nothing saved for a failed check');
  assert.deepEqual(pageErrors, []);
});
