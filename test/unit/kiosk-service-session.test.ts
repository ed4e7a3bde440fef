/**
 * The kiosk service's session timers, against a real controller (static backend, in-process on
 * loopback) and short real timers (the service reads the clock itself): idle logout after the
 * configured seconds, postponed by input in the page or on the viewers' display; the end of the
 * controller's session, at its expiry time or when the controller says so; and one person's timers
 * ending with their session, so they never reach the next person's.
 *
 * Stand-in, named as such: the native viewers (RecordingViewers: nothing is launched; the test says
 * how long ago the viewers' display last saw input).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hashPassword } from '../../controller/core/password-hash.js';
import { eventOf, kioskService, ok, RecordingViewers, refused, type ServiceUnderTest } from '../support/kiosk-service.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';

// Ports 16152 (controller, sessions of 8 hours), 16153 (controller, sessions of 2 seconds) and
// 16154 (a controller of one test, restarted with new keys).
const SHORT_SESSION_SECONDS = 2;
let work: string;
let inventory: string;
let ctl: StaticController;
let shortSessions: StaticController;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-service-session-'));
  const [ana, bob] = await Promise.all([hashPassword('ana-secret-pw'), hashPassword('bob-secret-pw')]);
  inventory = `users: [{ name: ana, password: "${ana}" }, { name: bob, password: "${bob}" }]\ndesktops: []\n`;
  ctl = await startStaticController({ workDir: mkdtempSync(path.join(work, 'ctl-')), port: 16152, inventory });
  shortSessions = await startStaticController({ workDir: mkdtempSync(path.join(work, 'short-')), port: 16153, inventory, sessionMaxSeconds: SHORT_SESSION_SECONDS });
});
after(async () => {
  await ctl?.close();
  await shortSessions?.close();
  rmSync(work, { recursive: true, force: true });
});

function kiosk(controllerUrl: string, idleLogoutSeconds: number): ServiceUnderTest & { viewers: RecordingViewers } {
  const viewers = new RecordingViewers();
  return { ...kioskService({ parentDir: work, native: viewers, preset: { controllerUrl, idleLogoutSeconds } }), viewers };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sessionEnded = (k: ServiceUnderTest, timeoutMs: number) => eventOf(k, (e) => e.type === 'session-ended', timeoutMs);

test('[kiosk] idle logout: a session without input ends the configured seconds after the last input the page reported', async () => {
  const k = kiosk(ctl.url, 1);
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  await sleep(600);
  await ok(k, 'activity');
  const lastInput = Date.now();
  await sleep(700);
  assert.equal((await ok(k, 'state')).session?.user, 'ana', 'logged out 1.3 s after login although the page reported input 0.7 s ago');
  assert.deepEqual(await sessionEnded(k, 3000), { type: 'session-ended', reason: 'idle' });
  const idleMs = Date.now() - lastInput;
  assert.ok(idleMs >= 900 && idleMs < 2000, `logged out ${idleMs} ms after the last input, with a limit of 1 s`);
  assert.equal((await ok(k, 'state')).session, null);
  assert.equal((await ok(k, 'state')).lastSessionEnded, 'idle');
});

test('[kiosk] idle logout counts input on the viewers\' display: a person working in a native viewer stays logged in', async () => {
  const k = kiosk(ctl.url, 1);
  k.viewers.displayIdleMs = 0;
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  await sleep(2500);
  assert.equal((await ok(k, 'state')).session?.user, 'ana', 'logged out while the viewers\' display saw input');
  assert.equal(k.events.length, 0);
  k.viewers.displayIdleMs = 60_000;
  assert.deepEqual(await sessionEnded(k, 3000), { type: 'session-ended', reason: 'idle' });
});

test('[kiosk] a session ends at the controller\'s expiry time, and the next login screen says why', async () => {
  const k = kiosk(shortSessions.url, 0);
  const asked = Date.now();
  const state = await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  const expiresAt = Date.parse(state.session?.expiresAt ?? '');
  const lifetime = SHORT_SESSION_SECONDS * 1000;
  assert.ok(expiresAt >= asked + lifetime && expiresAt <= Date.now() + lifetime, `the session lasts ${expiresAt - asked} ms`);
  assert.deepEqual(await sessionEnded(k, 5000), { type: 'session-ended', reason: 'expired' });
  assert.ok(Date.now() >= expiresAt - 100, `ended ${expiresAt - Date.now()} ms before its expiry`);
  assert.equal((await ok(k, 'state')).lastSessionEnded, 'expired');
});

test('[kiosk] a controller that says the session is over (restarted with new keys) ends it at the kiosk too', async (t) => {
  const port = 16154;
  let own = await startStaticController({ workDir: mkdtempSync(path.join(work, 'own-')), port, inventory });
  t.after(() => own.close());
  const k = kiosk(own.url, 0);
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  await own.close();
  own = await startStaticController({ workDir: mkdtempSync(path.join(work, 'own-')), port, inventory, sessionKey: Buffer.alloc(32, 7) });
  const refusal = await refused(k, 'desktops');
  assert.equal(refusal.kind, 'session-expired');
  assert.deepEqual(await sessionEnded(k, 2000), { type: 'session-ended', reason: 'expired' });
  assert.equal((await ok(k, 'state')).session, null);
});

test('[kiosk] one person\'s timers end with their logout: the next person keeps their session past the first one\'s expiry', async () => {
  const k = kiosk(shortSessions.url, 0);
  const firstLogin = Date.now();
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  await ok(k, 'logout');
  await sleep(1000);
  await ok(k, 'login', { username: 'bob', password: 'bob-secret-pw' });
  await sleep(SHORT_SESSION_SECONDS * 1000 + 400 - (Date.now() - firstLogin));
  assert.equal((await ok(k, 'state')).session?.user, 'bob', 'bob was logged out when ana\'s session would have expired');
  assert.deepEqual(k.events, [{ type: 'session-ended', reason: 'logout' }]);
  // Witness: bob's own expiry still ends his session.
  assert.deepEqual(await eventOf(k, (e) => e.type === 'session-ended' && e.reason === 'expired', 3000), { type: 'session-ended', reason: 'expired' });
});
