/**
 * Sessions and consoles as the neighbours of a shared kiosk meet them, against the real controller
 * (static backend) and a real VNC server: a logged-out token stays dead (whatever its spelling, on
 * another instance, after a restart), a password-guessing burst gets nowhere, a bad websocket
 * handshake leaves nothing open, one person cannot hold every console, and an inventory admin is
 * told so (for kiosks without a PIN).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { ErrorBody, Session } from '../../contract/api.js';
import { CONSOLE_CLOSE } from '../../contract/console-close.js';
import { ROUTES } from '../../contract/routes.js';
import { hashPassword } from '../../controller/core/password-hash.js';
import { METRICS_ROUTE } from '../../controller/http/server.js';
import { startLocalDesktops, type LocalDesktops } from '../../scripts/local-desktops/start.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';

// This file's share of the test range: ports 16210-16216, X displays :96 and :97.
const PORTS = { vnc: 16210, spice: 16211, rdp: 16212, first: 16214, second: 16215, restarted: 16216 };
const VNC_PASSWORD = 'vnc-pw56';
const FAST = { N: 1024, r: 8, p: 1 }; // a cheap scrypt: these tests log in many times

let workDir: string;
let stateDir: string;
let desktops: LocalDesktops;
let inventory: string;
let first: StaticController;
let second: StaticController;

before(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-sessions-'));
  stateDir = path.join(workDir, 'state');
  desktops = await startLocalDesktops({
    workDir: path.join(workDir, 'desktops'), vncPort: PORTS.vnc, spicePort: PORTS.spice, rdpPort: PORTS.rdp, displayBase: 96,
    vncPassword: VNC_PASSWORD, spicePassword: 'spice-t', rdpUser: 'una', rdpPassword: 'una-pass',
  });
  const [una, vic, root] = await Promise.all(['una-pass', 'vic-pass', 'root-pass'].map((p) => hashPassword(p, FAST)));
  inventory = `
users:
  - { name: una, password: "${una}" }
  - { name: vic, password: "${vic}" }
  - { name: siteadmin, password: "${root}", admin: true }
desktops:
  - id: lab
    name: Lab PC
    guestOs: { family: other }
    endpoints: { vnc: { host: 127.0.0.1, port: ${PORTS.vnc}, password: ${VNC_PASSWORD} } }
    users: [una, vic]
`;
  // Two instances behind one (imagined) load balancer: same keys, same stateDir.
  first = await startStaticController({ workDir, inventory, port: PORTS.first, stateDir, staticSettings: { relayMaxPerUser: 3 } });
  second = await startStaticController({ workDir, inventory, port: PORTS.second, stateDir, staticSettings: { relayMaxPerUser: 3 } });
});

after(async () => {
  await first?.close();
  await second?.close();
  await desktops?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

function expectExpired(answer: { status: number; body: unknown }, what: string): void {
  assert.equal(answer.status, 401, `${what}: ${JSON.stringify(answer.body)}`);
  assert.equal(ErrorBody.parse(answer.body).error.kind, 'session-expired', what);
}

test('[static] after logout the token is dead: in any spelling, on the other instance, and after a restart', async () => {
  const token = await first.login('una', 'una-pass');
  assert.equal((await second.call(ROUTES.desktops, { token })).status, 200, 'any instance serves any session');
  assert.equal((await first.call(ROUTES.logout, { token })).status, 204);
  expectExpired(await first.call(ROUTES.desktops, { token }), 'the same instance');
  expectExpired(await second.call(ROUTES.desktops, { token }), 'the other instance');
  // Node's base64 decoder ignores characters it does not know: these used to open the same session.
  for (const suffix of ['=', '==', '.', '%', '%3D', '!']) {
    expectExpired(await first.call(ROUTES.desktops, { token: `${token}${suffix}` }), `token + ${JSON.stringify(suffix)}`);
  }
  assert.equal(readdirSync(path.join(stateDir, 'ended-sessions')).length, 1, 'one ended session on disk, named by id');
  // A restarted instance reads what the others wrote.
  const restarted = await startStaticController({ workDir, inventory, port: PORTS.restarted, stateDir });
  try {
    expectExpired(await restarted.call(ROUTES.desktops, { token }), 'a restarted instance');
    const fresh = await restarted.login('una', 'una-pass');
    assert.equal((await restarted.call(ROUTES.desktops, { token: fresh })).status, 200, 'a new session of the same person is not affected');
  } finally {
    await restarted.close();
  }
});

test('[static] forty wrong passwords for one person sent at once: only five are checked, the rest are told to wait', async () => {
  const metricsBefore = (await first.call(METRICS_ROUTE)).body as string;
  const invalidBefore = Number(/thinkiosk_logins_total\{result="invalid"\} (\d+)/.exec(metricsBefore)?.[1] ?? 0);
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => first.call(ROUTES.login, { body: { username: 'vic', password: `guess-${i}` } })));
  const byStatus = new Map<number, number>();
  for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
  assert.equal(byStatus.get(401), 5, `answers: ${JSON.stringify([...byStatus])}`);
  assert.equal(byStatus.get(429), 35);
  for (const a of answers.filter((x) => x.status === 429)) assert.ok(Number(a.headers.get('retry-after')) > 0);
  const invalidAfter = Number(/thinkiosk_logins_total\{result="invalid"\} (\d+)/.exec((await first.call(METRICS_ROUTE)).body as string)?.[1] ?? 0);
  assert.equal(invalidAfter - invalidBefore, 5, 'five password checks reached the inventory');
  const right = await first.call(ROUTES.login, { body: { username: 'vic', password: 'vic-pass' } });
  assert.equal(right.status, 429, 'the name is locked for a while, even with the right password');
});

test('[static] X-Forwarded-For from a client is not believed: it cannot dodge the lock by naming another address', async () => {
  // vic is locked from 127.0.0.1 by the test above; a forged header must not make a new address.
  const answer = await fetch(`${first.url}${ROUTES.login.path}`, {
    method: ROUTES.login.method, headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '198.51.100.99' },
    body: JSON.stringify({ username: 'vic', password: 'vic-pass' }),
  });
  assert.equal(answer.status, 429);
});

/** Established TCP connections to a local port (the client ends), as the kernel sees them. */
function connectionsTo(port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', 'dport', `= :${port}`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).length;
}

/** Established TCP connections of the server listening on a local port (its ends). */
function connectionsFrom(port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', 'sport', `= :${port}`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim()).length;
}

/** Polls `what` until it is at most `want` (or, with `atLeast`, at least), or the time is up; returns the last count. */
async function settle(what: () => number, want: number, ms = 8000, atLeast = false): Promise<number> {
  const deadline = Date.now() + ms;
  let now = what();
  while ((atLeast ? now < want : now > want) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    now = what();
  }
  return now;
}

test('[static] websocket requests that are not accepted consoles leave no connection open, to the desktop or to the controller', async () => {
  const token = await first.login('una', 'una-pass');
  const vnc = (await first.call(ROUTES.console, { params: { id: 'lab' }, token, body: { protocol: 'vnc' } })).body as { websocketUrl: string };
  const ticketPath = new URL(vnc.websocketUrl).pathname;
  const baseline = connectionsTo(PORTS.vnc);
  const atController = (): number => connectionsFrom(PORTS.first);
  const controllerBaseline = atController();
  // Clients that send and never read nor close: only the controller can end these connections.
  const raw = (request: string): net.Socket => {
    const socket = net.connect(PORTS.first, '127.0.0.1', () => socket.write(request));
    socket.on('error', () => {});
    return socket;
  };
  const sockets = [
    // A valid ticket but a broken handshake (no Sec-WebSocket-Key): refused by the websocket layer.
    raw(`GET ${ticketPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`),
    // A forged ticket with a proper handshake, then the client never reads or closes.
    raw(`GET /v1/relay/${'A'.repeat(40)} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`),
    // Half a request, left hanging.
    raw(`GET ${ticketPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`),
  ];
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(connectionsTo(PORTS.vnc), baseline, 'no connection to the desktop was opened for them');
  // The refused ones and the half request are closed by the controller itself within seconds (the
  // baseline is the test client's own kept-alive API connections, which may only go away).
  const left = await settle(atController, controllerBaseline, 20_000);
  assert.ok(left <= controllerBaseline, `${left - controllerBaseline} of them still open at the controller`);
  for (const s of sockets) s.destroy();
});

test('[static] one person cannot hold every console: past the limit the relay says so, and the desktop connections end with the websockets', async () => {
  const token = await first.login('una', 'una-pass');
  const console = async () => ((await first.call(ROUTES.console, { params: { id: 'lab' }, token, body: { protocol: 'vnc' } })).body as { websocketUrl: string }).websocketUrl;
  const baseline = connectionsTo(PORTS.vnc);
  const open = async (): Promise<WebSocket> => {
    const ws = new WebSocket(await console(), ['binary']);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    return ws;
  };
  const held = [await open(), await open(), await open()];
  assert.equal(await settle(() => connectionsTo(PORTS.vnc), baseline + 3, 8000, true), baseline + 3);
  const extra = new WebSocket(await console(), ['binary']);
  const closed = await new Promise<{ code: number; reason: string }>((resolve) => extra.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  assert.deepEqual(closed, { code: CONSOLE_CLOSE.tooManyConsoles, reason: 'too many consoles open' });
  assert.match((await first.call(METRICS_ROUTE)).body as string, /^thinkiosk_relay_open_connections 3$/m);
  for (const ws of held) ws.close();
  assert.equal(await settle(() => connectionsTo(PORTS.vnc), baseline), baseline, 'the relay closed its desktop connections');
  assert.match((await first.call(METRICS_ROUTE)).body as string, /^thinkiosk_relay_open_connections 0$/m);
});

test('[static] an inventory administrator is told so at login; other people are not', async () => {
  const admin = Session.parse((await first.call(ROUTES.login, { body: { username: 'siteadmin', password: 'root-pass' } })).body);
  assert.equal(admin.admin, true);
  const person = Session.parse((await first.call(ROUTES.login, { body: { username: 'una', password: 'una-pass' } })).body);
  assert.equal(person.admin, false);
});
