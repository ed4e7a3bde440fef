/**
 * What the page and its local server control of the kiosk lock-down, checked in the real browser
 * shell: a strict CSP (no inline or eval'd script, no connections or form posts elsewhere),
 * window.open yields nothing, and the local server answers calls only with the launch key and only
 * under its own host name (no other local program or rebinding web page can drive the kiosk).
 * Electron's own lock-down (devtools, shortcuts, navigation handlers) is tested in
 * test/unit/electron-*.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { launchChromium, openKioskPage, startKiosk } from '../support/kiosk.js';

test('lock-down: CSP, window.open, and the local server\'s key and host checks', async (t) => {
  const browser = await launchChromium();
  const kiosk = await startKiosk();
  t.after(async () => {
    await browser.close();
    await kiosk.stop();
  });
  const { page } = await openKioskPage(browser, kiosk);
  await page.getByTestId('setup-screen').waitFor();
  const origin = new URL(kiosk.url).origin;

  const response = await fetch(`${origin}/`);
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /form-action 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);

  const probe = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
    // A string timer is compiled like eval, later, in the page's own context (code evaluated by
    // the test driver itself is exempt from CSP, so eval() here would prove nothing).
    try {
      (setTimeout as unknown as (code: string, ms: number) => void)('window.__evalRan = true', 0);
    } catch { /* blocked by CSP */ }
    const inline = document.createElement('script');
    inline.textContent = 'window.__inlineRan = true';
    document.body.append(inline);
    let externalFetch = 'blocked';
    try {
      await fetch('http://192.0.2.1/steal'); // TEST-NET-1: never contacted, CSP stops it first
      externalFetch = 'allowed';
    } catch { /* blocked */ }
    const opened = window.open('https://example.org/');
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { evalRan: (window as unknown as { __evalRan?: boolean }).__evalRan === true, inlineRan: (window as unknown as { __inlineRan?: boolean }).__inlineRan === true, externalFetch, opened: opened !== null, violations };
  });
  assert.equal(probe.evalRan, false, `eval is blocked ${JSON.stringify(probe)}`);
  assert.equal(probe.inlineRan, false, 'inline script is blocked');
  assert.equal(probe.externalFetch, 'blocked', 'no connections to other origins');
  assert.equal(probe.opened, false, 'window.open gives nothing');
  assert.ok(probe.violations.includes('connect-src'), probe.violations.join(','));
  assert.equal(page.context().pages().length, 1, 'no new window');

  const rpc = (headers: Record<string, string>): Promise<number> => new Promise((resolve, reject) => {
    const req = http.request(`${origin}/rpc/state`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end('{}');
  });
  const key = /#key=(.+)$/.exec(kiosk.url)![1]!;
  assert.equal(await rpc({}), 403, 'no key: refused');
  assert.equal(await rpc({ 'x-thinkiosk-key': 'x'.repeat(key.length) }), 403, 'wrong key: refused');
  assert.equal(await rpc({ 'x-thinkiosk-key': key, host: 'evil.example:80' }), 421, 'rebinding host name: refused');
  assert.equal(await rpc({ 'x-thinkiosk-key': key }), 200, 'the kiosk\'s own page: served');
  const events = await fetch(`${origin}/events`);
  assert.equal(events.status, 403, 'event stream needs the key too');
});
