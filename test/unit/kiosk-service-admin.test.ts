/**
 * The kiosk service's admin door and what a person leaves behind, call by call, against a real
 * controller (static backend, in-process on loopback) and real settings on disk: the first-start
 * claim, a kiosk with a controller but no PIN (a site administrator signs in, then sets the PIN), a
 * netbooted kiosk that may not be claimed, every admin call behind the PIN, a wrong PIN, an unlock
 * that ends (idle, a user session, leaving) and one that never begins over a person's session, the
 * wrong-PIN lockout, and the login screen's language switch lasting only for the person at the kiosk.
 *
 * Stand-ins, named as such (test/support/kiosk-service.ts): the admin system tools (nmcli,
 * PipeWire... are not what is tested here; the PIN check and hashing inside are the real ones) and
 * the native viewers (never started here).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { hashPassword } from '../../controller/core/password-hash.js';
import { KIOSK_METHODS, type KioskArgs, type KioskMethod } from '../../app/core/kiosk-api.js';
import { hashPin } from '../../app/core/system/admin-pin.js';
import { kioskService, ok, refused, type ServiceOptions, type ServiceUnderTest } from '../support/kiosk-service.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';

// Ports 16121 (controller), 16122 (nothing listens: an unreachable controller) and 16123 (a controller of one test) of K2's range.
const PORT = 16121;
const DEAD = 'http://127.0.0.1:16122';
let work: string;
let ctl: StaticController;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-service-admin-'));
  const [boss, ana] = await Promise.all([hashPassword('boss-secret-pw'), hashPassword('ana-secret-pw')]);
  ctl = await startStaticController({ workDir: work, port: PORT, inventory: `
users:
  - { name: boss, password: "${boss}", admin: true }
  - { name: ana, password: "${ana}" }
desktops: []
` });
});
after(async () => {
  await ctl?.close();
  rmSync(work, { recursive: true, force: true });
});

const kiosk = (options: Omit<ServiceOptions, 'parentDir'> = {}): ServiceUnderTest => kioskService({ parentDir: work, ...options });

const settingsFile = (k: ServiceUnderTest): string => readFileSync(k.settings.path, 'utf8');

test('[kiosk] a brand-new kiosk is claimed on its setup screen: controller and a new PIN together; after that, changing it needs the PIN', async () => {
  const k = kiosk();
  assert.equal((await ok(k, 'state')).adminAccess, 'claim');
  // Before the claim nothing opens the admin screen, and no call changes the controller without a PIN.
  assert.equal((await refused(k, 'adminUnlock', { pin: '' })).kind, 'locked');
  assert.equal((await refused(k, 'saveController', { url: ctl.url })).kind, 'locked');
  assert.equal((await refused(k, 'adminSetPin', { pin: '1234' })).kind, 'locked');
  // The setup form may check an address first.
  assert.equal((await ok<{ name: string }>(k, 'checkController', { url: ctl.url })).name, 'Static test site');

  assert.equal((await refused(k, 'claimKiosk', { url: ctl.url, pin: '12' })).kind, 'invalid-input');
  const dead = await refused(k, 'claimKiosk', { url: DEAD, pin: '2580' });
  assert.equal(dead.kind, 'unreachable');
  assert.equal(k.settings.read().adminPinHash, null, 'nothing saved when the controller does not answer');
  assert.equal(k.settings.read().controllerUrl, null);

  const claimed = await ok(k, 'claimKiosk', { url: ctl.url, pin: '2580' });
  assert.equal(claimed.adminAccess, 'pin');
  assert.equal(claimed.controller?.name, 'Static test site');
  assert.equal(claimed.adminUnlocked, false, 'the claim does not leave the admin screen open');
  assert.doesNotMatch(settingsFile(k), /2580/, 'the PIN is stored as its hash only');

  const again = await refused(k, 'claimKiosk', { url: DEAD, pin: '1111' });
  assert.equal(again.kind, 'locked');
  assert.match(again.message, /already set up/);
  assert.equal((await refused(k, 'checkController', { url: DEAD })).kind, 'locked', 'probing addresses needs the PIN after the claim');
  assert.equal((await refused(k, 'saveController', { url: DEAD })).kind, 'locked');
  await ok(k, 'adminUnlock', { pin: '2580' });
  assert.equal((await ok(k, 'saveController', { url: ctl.url })).controller?.url, `${ctl.url}/`);
});

test('[kiosk] two claims at once: exactly one kiosk owner', async () => {
  const k = kiosk();
  const results = await Promise.all(['1111', '2222', '3333'].map((pin) => k.service.call('claimKiosk', { url: ctl.url, pin })));
  assert.equal(results.filter((r) => r.ok).length, 1, JSON.stringify(results));
  assert.ok(results.filter((r) => !r.ok).every((r) => !r.ok && r.error.kind === 'locked'));
});

test('[kiosk][netboot] a netbooted kiosk without a preset can be neither claimed nor unlocked', async () => {
  const k = kiosk({ netbooted: true });
  const state = await ok(k, 'state');
  assert.equal(state.adminAccess, 'none');
  assert.equal(state.netbooted, true);
  const claim = await refused(k, 'claimKiosk', { url: ctl.url, pin: '2580' });
  assert.equal(claim.kind, 'locked');
  assert.match(claim.message, /started from the network.*boot server/);
  assert.equal((await refused(k, 'adminUnlock', { pin: '' })).kind, 'locked');
  assert.equal((await refused(k, 'checkController', { url: ctl.url })).kind, 'locked');
  assert.equal((await refused(k, 'adminSignIn', { username: 'boss', password: 'boss-secret-pw' })).kind, 'locked');
  assert.equal(k.settings.read().controllerUrl, null);
});

test('[kiosk][netboot] a kiosk with a controller but no PIN: any PIN is refused; only a site administrator\'s sign-in lets a PIN be set, and that sign-in is no user session', async () => {
  const k = kiosk({ netbooted: true, preset: { controllerUrl: ctl.url } });
  assert.equal((await ok(k, 'state')).adminAccess, 'controller-admin');
  for (const pin of ['', '0000', '1234']) assert.equal((await refused(k, 'adminUnlock', { pin })).kind, 'locked', `PIN "${pin}" opened a kiosk without a PIN`);
  assert.equal((await refused(k, 'saveController', { url: DEAD })).kind, 'locked');

  const wrong = await refused(k, 'adminSignIn', { username: 'boss', password: 'not-it' });
  assert.equal(wrong.kind, 'invalid-credentials');
  const notAdmin = await refused(k, 'adminSignIn', { username: 'ana', password: 'ana-secret-pw' });
  assert.equal(notAdmin.kind, 'forbidden');
  assert.match(notAdmin.message, /ana is not an administrator of this site/);
  assert.equal((await ok(k, 'state')).adminUnlocked, false);

  const signedIn = await ok(k, 'adminSignIn', { username: 'boss', password: 'boss-secret-pw' });
  assert.equal(signedIn.adminUnlocked, true);
  assert.equal(signedIn.session, null, 'the administrator\'s sign-in never becomes a user session');
  assert.equal((await refused(k, 'desktops')).kind, 'session-expired');
  // Only the PIN may be set now.
  const first = await refused(k, 'networkStatus');
  assert.equal(first.kind, 'locked');
  assert.match(first.message, /Set the admin PIN first/);
  assert.equal((await refused(k, 'saveController', { url: DEAD })).kind, 'locked');
  const set = await ok(k, 'adminSetPin', { pin: '97531' });
  assert.equal(set.adminAccess, 'pin');
  await ok(k, 'networkStatus');
  assert.ok(k.logs.some((line) => /boss \(site administrator\) signed in to set the admin PIN/.test(line)));
  assert.ok(!k.logs.join('\n').includes('boss-secret-pw'), 'no password in the log');
  await ok(k, 'adminLock');
  assert.equal((await refused(k, 'networkStatus')).kind, 'locked');
  await ok(k, 'adminUnlock', { pin: '97531' });
  await ok(k, 'networkStatus');
});

test('[kiosk] every settings-changing call needs the PIN; the login screen\'s language lasts only until the person\'s session ends', async () => {
  const k = kiosk({ preset: { controllerUrl: ctl.url, adminPinHash: await hashPin('4321'), language: 'en' } });
  const changing: [string, unknown][] = [
    ['saveController', { url: DEAD }], ['checkController', { url: DEAD }], ['adminSetPin', { pin: '1111' }], ['adminSetLanguage', { language: 'zh-CN' }],
    ['adminSetIdleLogout', { seconds: 1 }], ['wifiConnect', { ssid: 'x' }], ['setAudioOutput', { id: '1' }], ['setDisplayMode', { output: 'X', mode: '1x1' }],
    ['setBootServer', { enabled: true }], ['terminalOpen', { cols: 80, rows: 24 }],
  ];
  for (const [method, args] of changing) assert.equal((await refused(k, method, args)).kind, 'locked', `${method} without the PIN`);
  const before = settingsFile(k);

  // The person at the kiosk switches the login screen to Chinese: for them, not for the next person.
  assert.equal((await ok(k, 'setLanguage', { language: 'zh-CN' })).language, 'zh-CN');
  assert.equal(k.settings.read().language, 'en');
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  assert.equal((await ok(k, 'state')).language, 'zh-CN', 'their session keeps their language');
  await ok(k, 'logout');
  assert.equal((await ok(k, 'state')).language, 'en', 'the next login screen is in the kiosk\'s language');
  assert.equal(settingsFile(k), before, 'nothing a person did reached the settings file');

  await ok(k, 'adminUnlock', { pin: '4321' });
  assert.equal((await ok(k, 'adminSetLanguage', { language: 'zh-CN' })).language, 'zh-CN');
  assert.equal(k.settings.read().language, 'zh-CN');
});

test('[kiosk] the login screen after an idle logout says why, also on a fresh page (the browser shell restarts Chromium); a logout or the next login clears it', async () => {
  const k = kiosk({ preset: { controllerUrl: ctl.url, adminPinHash: await hashPin('4321'), idleLogoutSeconds: 1 } });
  assert.equal((await ok(k, 'state')).lastSessionEnded, null);
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  const deadline = Date.now() + 10_000;
  // Until the page would hear of it: the session is gone from the state before the kiosk has
  // logged it out at the controller and emitted session-ended.
  while (!k.events.some((e) => e.type === 'session-ended') && Date.now() < deadline) await new Promise((done) => setTimeout(done, 200));
  assert.deepEqual(k.events.filter((e) => e.type === 'session-ended'), [{ type: 'session-ended', reason: 'idle' }]);
  assert.equal((await ok(k, 'state')).lastSessionEnded, 'idle', 'a page loaded after the idle logout learns why');
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  assert.equal((await ok(k, 'state')).lastSessionEnded, null, 'a new session clears it');
  await ok(k, 'logout');
  assert.equal((await ok(k, 'state')).lastSessionEnded, null, 'a person who logs out needs no explanation');
});

test('[kiosk] an admin unlock ends: after minutes without use, when a user session begins, when the admin screen is left — and never opens during a session', async () => {
  const k = kiosk({ preset: { controllerUrl: ctl.url, adminPinHash: await hashPin('4321') }, adminIdleSeconds: 3 });
  await ok(k, 'adminUnlock', { pin: '4321' });
  // Calls keep it open (3 s without any locks it here; the kiosk's default is 3 minutes)...
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await ok(k, 'networkStatus');
  }
  // ...page activity too...
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await ok(k, 'activity');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await ok(k, 'networkStatus');
  // ...and nothing for a while locks it, and tells the page.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  assert.equal((await refused(k, 'networkStatus')).kind, 'locked');
  assert.deepEqual(k.events.filter((e) => e.type === 'admin-locked'), [{ type: 'admin-locked', reason: 'idle' }]);
  assert.ok(k.admin.locks >= 1, 'terminals were closed');

  await ok(k, 'adminUnlock', { pin: '4321' });
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  assert.equal((await refused(k, 'networkStatus')).kind, 'locked', 'a user session ends the unlock');
  assert.deepEqual(k.events.filter((e) => e.type === 'admin-locked').at(-1), { type: 'admin-locked', reason: 'session' });
  const during = await refused(k, 'adminUnlock', { pin: '4321' });
  assert.equal(during.kind, 'conflict');
  assert.match(during.message, /Log out first/);
  await ok(k, 'logout');

  await ok(k, 'adminUnlock', { pin: '4321' });
  await ok(k, 'adminLock');
  assert.equal((await refused(k, 'networkStatus')).kind, 'locked', 'leaving the admin screen locks it');
  assert.equal(k.admin.networkCalls, 4);
});

/** What a person may call without the admin PIN: their own session, and the admin door itself. */
const OPEN_TO_EVERYONE: ReadonlySet<KioskMethod> = new Set<KioskMethod>([
  'state', 'claimKiosk', 'login', 'logout', 'activity', 'desktops', 'power', 'connect', 'disconnect', 'sendCtrlAltDel', 'setLanguage',
  'adminUnlock', 'adminSignIn', 'adminLock',
]);

test('[kiosk] on a kiosk with a PIN, every method but a person\'s own and the admin door needs the PIN: one added later is admin-only unless it is named here', async () => {
  const k = kiosk({ preset: { controllerUrl: ctl.url, adminPinHash: await hashPin('4321') } });
  // Valid arguments for every method, so a refusal is the admin door's and not the argument check's.
  const validArgs: { [M in KioskMethod]: KioskArgs<M> } = {
    state: {}, checkController: { url: ctl.url }, saveController: { url: ctl.url }, claimKiosk: { url: ctl.url, pin: '1111' },
    login: { username: 'ana', password: 'x' }, logout: {}, activity: {}, desktops: {}, power: { id: 'x', action: 'start' },
    connect: { id: 'x' }, disconnect: { sessionId: 'x' }, sendCtrlAltDel: { sessionId: 'x' }, setLanguage: { language: 'en' },
    adminUnlock: { pin: '0000' }, adminSignIn: { username: 'boss', password: 'x' }, adminLock: {}, adminSetPin: { pin: '1111' },
    adminSetLanguage: { language: 'en' }, adminSetIdleLogout: { seconds: 60 }, networkStatus: {}, wifiScan: {}, wifiConnect: { ssid: 'x' },
    audioOutputs: {}, setAudioOutput: { id: '1' }, displayOutputs: {}, setDisplayMode: { output: 'X', mode: '1x1' }, diagnostics: {}, logs: {},
    terminalOpen: { cols: 80, rows: 24 }, terminalInput: { terminalId: 'x', data: 'ls' }, terminalResize: { terminalId: 'x', cols: 80, rows: 24 },
    terminalClose: { terminalId: 'x' }, bootServerStatus: {}, setBootServer: { enabled: true },
    updateStatus: {}, updateInstall: { source: 'usb' },
  };
  const adminOnly = (Object.keys(KIOSK_METHODS) as KioskMethod[]).filter((method) => !OPEN_TO_EVERYONE.has(method));
  for (const method of adminOnly) {
    const refusal = await refused(k, method, validArgs[method]);
    assert.deepEqual(refusal, { kind: 'locked', message: 'Enter the admin PIN first.' }, `${method} without the PIN`);
  }
  assert.equal(k.admin.networkCalls, 0, 'a system tool was reached without the PIN');
});

test('[kiosk] a wrong PIN leaves the admin screen shut and says so; the right one opens it', async () => {
  const k = kiosk({ preset: { controllerUrl: ctl.url, adminPinHash: await hashPin('4321') } });
  assert.deepEqual(await refused(k, 'adminUnlock', { pin: '1234' }), { kind: 'locked', message: 'Wrong PIN.' });
  assert.equal((await ok(k, 'state')).adminUnlocked, false);
  assert.equal((await refused(k, 'networkStatus')).kind, 'locked');
  assert.ok(k.logs.includes('warn admin: wrong PIN'), k.logs.join('\n'));
  await ok(k, 'adminUnlock', { pin: '4321' });
  assert.equal((await ok(k, 'state')).adminUnlocked, true);
  await ok(k, 'networkStatus');
});

test('[kiosk] a PIN check still running when a person logs in does not open the admin screen over their session', async () => {
  const k = kiosk({ preset: { controllerUrl: ctl.url, adminPinHash: await hashPin('4321') } });
  // The real check, held until ana is logged in (on the appliance it takes a moment: scrypt).
  let letCheckFinish: () => void = () => undefined;
  const heldUntilLogin = new Promise<void>((resolve) => { letCheckFinish = resolve; });
  const check = k.admin.verifyPin;
  k.admin.verifyPin = async (pin, hash) => { await heldUntilLogin; return check(pin, hash); };
  const unlock = k.service.call('adminUnlock', { pin: '4321' });
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  letCheckFinish();
  const result = await unlock;
  assert.ok(!result.ok, 'the admin screen opened during ana\'s session');
  assert.equal(result.error.kind, 'conflict');
  assert.equal((await ok(k, 'state')).adminUnlocked, false);
  assert.equal((await refused(k, 'networkStatus')).kind, 'locked');
});

test('[kiosk] wrong PINs: five are checked, then the kiosk refuses every PIN for a while — also when they arrive all at once', async () => {
  const k = kiosk({ preset: { controllerUrl: ctl.url, adminPinHash: await hashPin('4321') } });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => k.service.call('adminUnlock', { pin: String(5000 + i) })));
  const kinds = results.map((r) => (r.ok ? 'ok' : r.error.kind));
  assert.equal(kinds.filter((kind) => kind === 'locked').length, 5, kinds.join(','));
  assert.equal(kinds.filter((kind) => kind === 'too-many-attempts').length, 15, kinds.join(','));
  const right = await refused(k, 'adminUnlock', { pin: '4321' });
  assert.equal(right.kind, 'too-many-attempts');
  assert.match(right.message, /Too many wrong PINs. Try again in \d+ seconds/);
  assert.equal((await ok(k, 'state')).adminUnlocked, false);
});

test('[kiosk] after logout the person\'s password is gone from the kiosk\'s memory (heap snapshot)', async (t) => {
  // Made at run time and never kept whole in this test, so only the kiosk (or the in-process
  // controller) could be holding it.
  const hex = randomBytes(12).toString('hex');
  const quoted = (): string => `"${['pw', hex].join('-')}"`;
  const own = await startStaticController({ workDir: mkdtempSync(path.join(work, 'heap-')), port: 16123, inventory: `users: [{ name: dora, password: "${await hashPassword(['pw', hex].join('-'))}" }]\ndesktops: []\n` });
  t.after(() => own.close());
  const k = kiosk({ preset: { controllerUrl: own.url } });
  const found = (name: string): number => readFileSync(writeHeapSnapshot(path.join(k.dir, `${name}.heapsnapshot`)), 'latin1').split(quoted()).length - 1;
  await ok(k, 'login', { username: 'dora', password: ['pw', hex].join('-') });
  assert.ok(found('during') >= 1, 'witness: during the session the password is in memory (single sign-on into RDP)');
  await ok(k, 'logout');
  assert.equal(found('after'), 0, 'the password outlived the session in memory');
});
