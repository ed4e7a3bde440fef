/**
 * The image's managed Chromium policies (rootfs-overlay/etc/chromium/policies/managed/thinkiosk.json)
 * in Debian's Chromium, on a real screen. They are made visible at /etc/chromium/policies/managed/
 * in a private mount namespace only (a bind mount over /etc/chromium that no other process on this
 * machine sees), so other Chromiums here never obey them. With them, Chromium shows the kiosk's own
 * origin (any port of 127.0.0.1) and refuses file:// and its own chrome:// pages; without them (the
 * control) the same file shows. And the browser shell under them still closes what Ctrl+N opens:
 * the policies restrict Chromium's debugging protocol, not the calls its window guard makes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exists, startDaemon, waitFor, type Daemon } from '../support/system-daemons.js';
import { RealScreen } from './real-screen.js';

// This file's share of the kiosk tests' range: X display :72, ports 16113 (a page on 127.0.0.1), 16114 (the kiosk page).
const DISPLAY = ':72';
const PAGE_PORT = 16113;
const KIOSK_PORT = 16114;
const POLICIES = fileURLToPath(new URL('../../../rootfs-overlay/etc/chromium/policies/managed/thinkiosk.json', import.meta.url));

interface Setup { dir: string; etc: string; screen: RealScreen; run(args: string[], withPolicies: boolean): Daemon }

async function setUp(t: TestContext): Promise<Setup> {
  const dir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-policies-'));
  // What /etc/chromium holds on the image: Debian's files and the kiosk's policies.
  const etc = path.join(dir, 'etc-chromium');
  mkdirSync(path.join(etc, 'policies', 'managed'), { recursive: true });
  copyFileSync('/etc/chromium/master_preferences', path.join(etc, 'master_preferences'));
  copyFileSync(POLICIES, path.join(etc, 'policies', 'managed', 'thinkiosk.json'));
  const server = http.createServer((_req, res) => res.end('<!doctype html><title>local</title><h1>ALLOWED LOCAL PAGE</h1>'));
  await new Promise<void>((resolve) => server.listen(PAGE_PORT, '127.0.0.1', resolve));
  const running: Daemon[] = [];
  const xvfb = startDaemon('Xvfb', [DISPLAY, '-screen', '0', '1280x800x24', '-nolisten', 'tcp']);
  t.after(async () => {
    for (const daemon of running.reverse()) await daemon.stop();
    await xvfb.stop();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor('Xvfb', () => exists(`/tmp/.X11-unix/X${DISPLAY.slice(1)}`));
  mkdirSync(path.join(dir, 'screens'));
  const env = { ...process.env, DISPLAY, HOME: dir, LANG: 'C.UTF-8' };
  return {
    dir, etc, screen: new RealScreen(DISPLAY, path.join(dir, 'screens')),
    run(args, withPolicies) {
      const daemon = withPolicies
        ? startDaemon('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/chromium && exec "$@"', etc, ...args], { env })
        : startDaemon(args[0]!, args.slice(1), { env });
      running.push(daemon);
      return daemon;
    },
  };
}

const chromium = (dir: string, url: string) => ['/usr/bin/chromium', `--user-data-dir=${mkdtempSync(path.join(dir, 'profile-'))}`, '--no-first-run', '--kiosk', '--window-position=0,0', '--window-size=1280,800', '--no-sandbox', url];

test('[kiosk][image] with the image\'s policies Chromium shows only the kiosk\'s own origin, and the shell still closes what Ctrl+N opens', { timeout: 300_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('a private mount namespace needs root');
  const { dir, screen, run } = await setUp(t);
  const show = async (url: string, withPolicies: boolean, expected: RegExp, label: string): Promise<void> => {
    const browser = run(chromium(dir, url), withPolicies);
    // 90 s: on a loaded CI machine one of these Chromium starts once stayed blank for over 60 s.
    await screen.waitForSteady(expected, 90_000, label)
      .catch((error: Error) => { throw new Error(`${label}: ${error.message}\nChromium printed:\n${browser.output().slice(-3000)}`); });
    await browser.stop();
  };
  // The control: without the policies, Chromium shows a local file.
  writeFileSync(path.join(dir, 'secret.txt'), 'CONTENTS OF A LOCAL FILE');
  await show(`file://${path.join(dir, 'secret.txt')}`, false, /CONTENTS OF A LOCAL FILE/, 'file-without-policies');
  // With them: the kiosk's origin (any port of 127.0.0.1) yes; files and Chromium's own pages no.
  await show(`http://127.0.0.1:${PAGE_PORT}/`, true, /ALLOWED LOCAL PAGE/, 'local-page');
  await show(`file://${path.join(dir, 'secret.txt')}`, true, /blocked|doesn.t allow/i, 'file-with-policies');
  await show('chrome://version/', true, /blocked|doesn.t allow/i, 'chrome-page-with-policies');

  // The browser shell under the same policies.
  const shell = run([process.execPath, 'dist/app/shell/main.js', '--settings-dir', path.join(dir, 'settings'), '--preset', path.join(dir, 'none.conf'), '--port', String(KIOSK_PORT)], true);
  await waitFor('the kiosk page', async () => (/THINKIOSK-KIOSK-READY/.test(shell.output()) ? true : undefined), 120_000)
    .catch((error: Error) => { throw new Error(`${error.message}:\n${shell.output()}`); });
  await screen.waitForSteady(/Connect this kiosk/, 30_000, 'kiosk-page');
  await screen.moveTo(500, 300);
  await screen.key('ctrl+n');
  await waitFor('the window guard', async () => (/closed a window chromium opened besides the kiosk page/.test(shell.output()) ? true : undefined), 20_000)
    .catch((error: Error) => { throw new Error(`${error.message}:\n${shell.output()}`); });
  const after = await screen.waitForSteady(/Connect this kiosk/, 30_000, 'after-ctrl-n');
  assert.doesNotMatch(after.text, /blocked|New Tab/i);
  assert.doesNotMatch(shell.output(), /cannot watch chromium's windows/);
});
