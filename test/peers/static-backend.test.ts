/**
 * The controller's static backend against real remote-desktop servers (scripts/local-desktops/start.ts:
 * TigerVNC, QEMU SPICE, freerdp-shadow): logins against the inventory's hashes, per-user desktop
 * lists, VNC and SPICE through the controller's own websocket relay (RFB VncAuth and a framebuffer
 * grab; SPICE link and ticket), RDP targets, refusals, and what a stopped server looks like.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Console, DesktopList, ErrorBody, Identity, type Desktop } from '../../contract/api.js';
import { CONSOLE_CLOSE } from '../../contract/console-close.js';
import { ROUTES } from '../../contract/routes.js';
import { hashPassword } from '../../controller/core/password-hash.js';
import { RelayTickets } from '../../controller/desktops/static/relay-ticket.js';
import { METRICS_ROUTE } from '../../controller/http/server.js';
import { startLocalDesktops, type LocalDesktops } from '../../scripts/local-desktops/start.js';
import { checkQuadPattern } from '../support/pattern.js';
import { grabVncScreen, spiceLink } from '../support/rfb.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';

// This file's share of the test range: ports 15910-15915, X displays :43 and :44.
const PORTS = { vnc: 15910, spice: 15911, rdp: 15912, nobody: 15913, controller: 15915 };
const DISPLAY_BASE = 43;
const VNC_PASSWORD = 'vnc-pw12';
const SPICE_PASSWORD = 'spice-ticket';

let workDir: string;
let desktops: LocalDesktops | null = null;
let ctl: StaticController;
let carol: string;
let dave: string;

before(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-static-'));
  desktops = await startLocalDesktops({
    workDir: path.join(workDir, 'desktops'), vncPort: PORTS.vnc, spicePort: PORTS.spice, rdpPort: PORTS.rdp, displayBase: DISPLAY_BASE,
    vncPassword: VNC_PASSWORD, spicePassword: SPICE_PASSWORD, rdpUser: 'carol', rdpPassword: 'carol-pass',
  });
  const [carolHash, daveHash, eveHash] = await Promise.all(['carol-pass', 'dave-pass', 'eve-pass'].map((p) => hashPassword(p)));
  ctl = await startStaticController({
    // Checked every 5 s (the default is a minute) so a stopped server shows within the test's patience.
    workDir, port: PORTS.controller, staticSettings: { probeIntervalSeconds: 5 }, inventory: `
users:
  - { name: carol, password: "${carolHash}" }
  - { name: dave, password: "${daveHash}" }
  - { name: eve, password: "${eveHash}" }
desktops:
  - id: win
    name: A Windows desktop
    guestOs: { family: windows, distro: windows, version: "11" }
    addresses: [{ ip: 127.0.0.1, network: loopback }]
    endpoints: { rdp: { host: 127.0.0.1, port: ${PORTS.rdp} } }
    users: [carol]
  - id: lin
    name: B Linux desktop
    guestOs: { family: linux, distro: debian, version: "12" }
    endpoints: { spice: { host: 127.0.0.1, port: ${PORTS.spice}, password: ${SPICE_PASSWORD} } }
    users: [carol]
  - id: other
    name: C Other desktop
    guestOs: { family: other }
    endpoints: { vnc: { host: 127.0.0.1, port: ${PORTS.vnc}, password: ${VNC_PASSWORD} } }
    usbRedirection: false
    users: [carol, dave]
  - id: gone
    name: D Switched-off desktop
    guestOs: { family: linux, distro: fedora }
    endpoints: { vnc: { host: 127.0.0.1, port: ${PORTS.nobody} } }
    users: [dave]
` });
  carol = await ctl.login('carol', 'carol-pass');
  dave = await ctl.login('dave', 'dave-pass');
});

after(async () => {
  await ctl?.close();
  await desktops?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

async function consoleOf(token: string, id: string, protocol: string): Promise<Console> {
  const answer = await ctl.call(ROUTES.console, { params: { id }, token, body: { protocol } });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return Console.parse(answer.body);
}

/** The HTTP answer to a websocket upgrade that the relay refuses. */
function refusedUpgrade(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary']);
    ws.once('open', () => { ws.close(); reject(new Error(`relay accepted ${url}`)); });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.once('error', () => {});
  });
}

function expectError(answer: { status: number; body: unknown }, status: number, kind: string, message: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  const { error } = ErrorBody.parse(answer.body);
  assert.equal(error.kind, kind);
  assert.match(error.message, message);
  assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
}

test('[static] identity names the static backend', async () => {
  const identity = Identity.parse((await ctl.call(ROUTES.identity)).body);
  assert.equal(identity.backend, 'static');
  assert.equal(identity.name, 'Static test site');
});

test('[static] login: right password gives a session; wrong password and unknown user get the same 401', async () => {
  const ok = await ctl.call(ROUTES.login, { body: { username: 'carol', password: 'carol-pass' } });
  assert.equal(ok.status, 201);
  assert.deepEqual(ok.body.user, { id: 'carol', name: 'carol' });
  assert.equal(ok.body.project.name, 'Static test site');
  assert.ok(Date.parse(ok.body.expiresAt) > Date.now() + 3600_000, 'the session lasts (sessionMaxSeconds)');
  const wrong = await ctl.call(ROUTES.login, { body: { username: 'carol', password: 'Carol-pass' } });
  expectError(wrong, 401, 'invalid-credentials', /Wrong user name or password/);
  const unknown = await ctl.call(ROUTES.login, { body: { username: 'mallory', password: 'carol-pass' } });
  expectError(unknown, 401, 'invalid-credentials', /Wrong user name or password/);
  assert.equal(unknown.body.error.message, wrong.body.error.message, 'the answer does not tell which user names exist');
  const metrics = (await ctl.call(METRICS_ROUTE)).body as string;
  assert.match(metrics, /thinkiosk_logins_total\{result="ok"\} [3-9]/);
  assert.match(metrics, /thinkiosk_logins_total\{result="invalid"\} [2-9]/);
});

test('[static] the login guard locks a user out after repeated wrong passwords', async () => {
  for (let i = 0; i < 5; i++) {
    assert.equal((await ctl.call(ROUTES.login, { body: { username: 'eve', password: `guess-${i}` } })).status, 401);
  }
  const locked = await ctl.call(ROUTES.login, { body: { username: 'eve', password: 'eve-pass' } });
  expectError(locked, 429, 'too-many-attempts', /Too many failed logins\. Wait \d+ seconds/);
  assert.ok(Number(locked.headers.get('retry-after')) > 0);
});

test('[static] each user sees only their own desktops, with live status from their servers', async () => {
  const mine = DesktopList.parse((await ctl.call(ROUTES.desktops, { token: carol })).body).desktops;
  assert.deepEqual(mine.map((d) => d.id), ['win', 'lin', 'other']);
  const byId = new Map<string, Desktop>(mine.map((d) => [d.id, d]));
  for (const d of mine) {
    assert.equal(d.status, 'ACTIVE', `${d.id}: ${d.fault}`);
    assert.equal(d.powerState, 'running');
    assert.equal(d.powerControl, false);
  }
  assert.equal(byId.get('win')?.recommendedProtocol, 'rdp');
  assert.deepEqual(byId.get('win')?.addresses, [{ ip: '127.0.0.1', version: 4, mac: null, network: 'loopback', kind: 'fixed' }]);
  assert.equal(byId.get('lin')?.recommendedProtocol, 'spice');
  assert.deepEqual(byId.get('lin')?.guestOs, { family: 'linux', distro: 'debian', version: '12' });
  assert.equal(byId.get('other')?.recommendedProtocol, 'vnc');
  assert.equal(byId.get('other')?.policy.usbRedirection, false);

  const daves = DesktopList.parse((await ctl.call(ROUTES.desktops, { token: dave })).body).desktops;
  assert.deepEqual(daves.map((d) => d.id), ['other', 'gone']);
  expectError(await ctl.call(ROUTES.desktop, { params: { id: 'win' }, token: dave }), 404, 'not-found', /no longer exists/);
  expectError(await ctl.call(ROUTES.console, { params: { id: 'win' }, token: dave, body: { protocol: 'rdp' } }), 404, 'not-found', /no longer exists/);
  expectError(await ctl.call(ROUTES.desktops, {}), 401, 'session-expired', /log in/);
});

test('[static] VNC through the relay: RFB VncAuth with the inventory password, and the screen is the pattern', async () => {
  const vnc = await consoleOf(carol, 'other', 'vnc');
  assert.ok(vnc.protocol === 'vnc');
  assert.match(vnc.websocketUrl, new RegExp(`^ws://127\\.0\\.0\\.1:${PORTS.controller}/v1/relay/[\\w-]+$`), 'the relay is offered at the address the kiosk used');
  assert.equal(vnc.password, VNC_PASSWORD);
  assert.deepEqual(vnc.direct, { host: '127.0.0.1', port: PORTS.vnc });
  const screen = await grabVncScreen(vnc.websocketUrl, { password: vnc.password! });
  assert.equal(screen.subprotocol, 'binary');
  assert.deepEqual([screen.width, screen.height], [800, 600]);
  const pattern = checkQuadPattern(screen.png);
  assert.ok(pattern.ok, pattern.detail);
  await assert.rejects(grabVncScreen(vnc.websocketUrl, { password: 'wrong-pw' }), /security result 1/, 'the VNC server checks the password itself');
  assert.match((await ctl.call(METRICS_ROUTE)).body as string, /thinkiosk_relay_connections_total\{protocol="vnc",result="ok"\} [2-9]/);
});

test('[static] SPICE through the relay: the link succeeds with the ticket, and fails with a wrong one', async () => {
  const spice = await consoleOf(carol, 'lin', 'spice');
  assert.ok(spice.protocol === 'spice');
  assert.equal(spice.password, SPICE_PASSWORD);
  assert.deepEqual(await spiceLink(spice.websocketUrl, { password: spice.password! }), { major: 2, error: 0, authResult: 0 });
  const wrong = await spiceLink(spice.websocketUrl, { password: 'not-the-ticket' });
  assert.notEqual(wrong.authResult, 0, 'QEMU refuses a wrong ticket');
});

test('[static] RDP: the console is the server itself, and it takes the user\'s own login (NLA)', async () => {
  const rdp = await consoleOf(carol, 'win', 'rdp');
  assert.deepEqual(rdp, { protocol: 'rdp', host: '127.0.0.1', port: PORTS.rdp, floatingIpAttached: false });
  const authOnly = (password: string) => new Promise<number>((resolve) => {
    execFile('xfreerdp', [`/v:${rdp.protocol === 'rdp' ? `${rdp.host}:${rdp.port}` : ''}`, '/u:carol', `/p:${password}`, '/cert:ignore', '+auth-only'],
      { env: { ...process.env, DISPLAY: `:${DISPLAY_BASE + 1}` }, timeout: 30_000 }, (error) => resolve(error ? Number(error.code ?? 1) : 0));
  });
  assert.equal(await authOnly('carol-pass'), 0, 'NLA accepts carol\'s login');
  assert.notEqual(await authOnly('wrong'), 0, 'NLA refuses a wrong password');
});

test('[static] a protocol the desktop does not offer, and power actions, are refused with a sentence', async () => {
  expectError(await ctl.call(ROUTES.console, { params: { id: 'win' }, token: carol, body: { protocol: 'vnc' } }), 409, 'not-ready', /cannot be opened over VNC\. Available: RDP/);
  const power = await ctl.call(ROUTES.power, { params: { id: 'other' }, token: carol, body: { action: 'start' } });
  expectError(power, 409, 'conflict', /C Other desktop is not managed by thinkiosk/);
  expectError(await ctl.call(ROUTES.power, { params: { id: 'win' }, token: dave, body: { action: 'stop' } }), 404, 'not-found', /no longer exists/);
});

test('[static] relay tickets: forged, expired, a session token in their place, or another path are all refused', async () => {
  const vnc = await consoleOf(carol, 'other', 'vnc');
  assert.ok(vnc.protocol === 'vnc');
  const ticket = vnc.websocketUrl.split('/').pop()!;
  const base = `ws://127.0.0.1:${PORTS.controller}/v1/relay/`;
  const forged = ticket.slice(0, 30) + (ticket[30] === 'A' ? 'B' : 'A') + ticket.slice(31);
  const expired = new RelayTickets([ctl.sessionKey], 60).issue({ host: '127.0.0.1', port: PORTS.vnc, protocol: 'vnc', desktop: 'other', user: 'carol' }, Date.now() - 61_000);
  for (const bad of [forged, expired, carol]) {
    const answer = await refusedUpgrade(base + bad);
    expectError(answer, 403, 'forbidden', /not valid or has expired\. Open the desktop again/);
  }
  expectError(await refusedUpgrade(`ws://127.0.0.1:${PORTS.controller}${ROUTES.desktops.path}`), 404, 'not-found', /no console here/);
  assert.match((await ctl.call(METRICS_ROUTE)).body as string, /thinkiosk_relay_connections_total\{protocol="unknown",result="refused"\} [3-9]/);
});

test('[static] a desktop whose server does not answer is SHUTOFF with a reason; opening it says the desktop refused the connection', async () => {
  const gone = (await ctl.call(ROUTES.desktop, { params: { id: 'gone' }, token: dave })).body as Desktop;
  assert.equal(gone.status, 'SHUTOFF');
  assert.equal(gone.powerState, 'shutdown');
  assert.match(gone.fault ?? '', new RegExp(`D Switched-off desktop does not answer \\(VNC at 127\\.0\\.0\\.1:${PORTS.nobody}\\)\\. It may be switched off`));
  // No probe before a connect (it would double what a server sees): the relay tries for real and says why it could not.
  const vnc = await consoleOf(dave, 'gone', 'vnc');
  assert.ok(vnc.protocol === 'vnc');
  assert.deepEqual(await closeOf(vnc.websocketUrl), { code: CONSOLE_CLOSE.desktopRefused, reason: 'refused' });
});

test('[static] logout ends the session on this instance at once', async () => {
  const token = await ctl.login('dave', 'dave-pass');
  assert.equal((await ctl.call(ROUTES.logout, { token })).status, 204);
  expectError(await ctl.call(ROUTES.desktops, { token }), 401, 'session-expired', /log in again/);
});

test('[static] when the servers stop, the desktops turn SHUTOFF and an old relay address says the desktop refused the connection', async () => {
  const before = await consoleOf(carol, 'other', 'vnc');
  assert.ok(before.protocol === 'vnc');
  await desktops!.stop();
  desktops = null;
  const deadline = Date.now() + 15_000;
  let list: Desktop[] = [];
  while (Date.now() < deadline) {
    list = DesktopList.parse((await ctl.call(ROUTES.desktops, { token: carol })).body).desktops;
    if (list.every((d) => d.status === 'SHUTOFF')) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.deepEqual(list.map((d) => `${d.id}:${d.status}/${d.powerState}`), ['win:SHUTOFF/shutdown', 'lin:SHUTOFF/shutdown', 'other:SHUTOFF/shutdown']);
  assert.deepEqual(await closeOf(before.websocketUrl), { code: CONSOLE_CLOSE.desktopRefused, reason: 'refused' }, 'an old relay address says the desktop refused');
});

/** Opens a relayed console whose desktop will not answer: the handshake is accepted, then closed with a reason code. */
function closeOf(url: string): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary']);
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`relay refused the handshake: HTTP ${res.statusCode}`)));
    ws.once('error', () => {});
  });
}
