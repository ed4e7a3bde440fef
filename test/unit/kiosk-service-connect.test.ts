/**
 * The kiosk service opening a desktop, call by call, against a real controller (static backend,
 * in-process on loopback): a console in the page through the kiosk's relay, a native viewer for RDP
 * and for SPICE with USB, the controller's refusals and failures turned into a sentence the person
 * can act on, and a console the controller's answer brings only after the person has logged out.
 *
 * Stand-ins, named as such: the native viewers (RecordingViewers records what would have been
 * started) and, where a test needs the controller's answer to arrive late, a pass-through proxy
 * that holds its answer to a console request until the test lets it go (HeldConsoles).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from '../../app/core/kiosk-api.js';
import { hashPassword } from '../../controller/core/password-hash.js';
import { eventOf, kioskService, ok, RecordingViewers, refused, type ServiceUnderTest } from '../support/kiosk-service.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';

// Ports 16150 (controller), 16151 and 16158 (HeldConsoles in front of it); 16155-16157 are the desktops'
// servers, where nothing listens: connecting is not dialling (the relay and the viewers do that).
const PORT = 16150;
const HELD_PORT = 16151;
let work: string;
let ctl: StaticController;
let held: HeldConsoles;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-service-connect-'));
  const [ana, bob] = await Promise.all([hashPassword('ana-secret-pw'), hashPassword('bob-secret-pw')]);
  ctl = await startStaticController({ workDir: work, port: PORT, inventory: `
users:
  - { name: ana, password: "${ana}" }
  - { name: bob, password: "${bob}" }
desktops:
  - { id: lin, name: Ana's Linux, guestOs: { family: linux }, usbRedirection: false, endpoints: { vnc: { host: 127.0.0.1, port: 16155, password: vnc-pw } }, users: [ana] }
  - { id: win, name: Ana's Windows, guestOs: { family: windows }, endpoints: { rdp: { host: 127.0.0.1, port: 16156 } }, users: [ana] }
  - { id: usb, name: Ana's USB desktop, guestOs: { family: linux }, usbRedirection: true, endpoints: { spice: { host: 127.0.0.1, port: 16157, password: spice-ticket } }, users: [ana] }
  - { id: bobs, name: Bob's Linux, guestOs: { family: linux }, endpoints: { vnc: { host: 127.0.0.1, port: 16155 } }, users: [bob] }
` });
  held = new HeldConsoles(HELD_PORT, ctl.url);
  await held.listen();
});
after(async () => {
  await held?.close();
  await ctl?.close();
  rmSync(work, { recursive: true, force: true });
});

function kiosk(controllerUrl = ctl.url): ServiceUnderTest & { viewers: RecordingViewers } {
  const viewers = new RecordingViewers();
  return { ...kioskService({ parentDir: work, native: viewers, preset: { controllerUrl } }), viewers };
}

/**
 * Stand-in for a slow path from the controller: passes every request through to it, except that the
 * controller's answer to a console request (or whatever `holds` picks) waits until the test lets it
 * go on (`release`) or cuts its connection (`drop`). `seen` lists the requests in order of arrival.
 */
class HeldConsoles {
  private readonly server: http.Server;
  private waiting: { release(): void; drop(): void } | null = null;
  private arrived: () => void = () => undefined;
  private arrival = new Promise<void>((resolve) => { this.arrived = resolve; });
  readonly seen: string[] = [];

  constructor(readonly port: number, target: string, holds: (method: string, url: string) => boolean = (_method, url) => url.endsWith('/console')) {
    this.server = http.createServer((req, res) => {
      this.seen.push(`${req.method} ${req.url}`);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => void (async () => {
        const answer = await fetch(`${target}${req.url}`, {
          method: req.method, body: chunks.length ? Buffer.concat(chunks) : null,
          headers: Object.fromEntries(['authorization', 'content-type'].flatMap((name) => (req.headers[name] ? [[name, String(req.headers[name])]] : []))),
        });
        const body = Buffer.from(await answer.arrayBuffer());
        const send = (): void => {
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
          res.end(body);
        };
        if (!holds(req.method ?? '', req.url ?? '')) return send();
        this.waiting = { release: send, drop: () => req.socket.destroy() };
        this.arrived();
      })());
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  /** Resolves once the controller has answered a held request (a console request unless told otherwise), which is now held here. */
  held(): Promise<void> {
    return this.arrival;
  }

  release(): void {
    this.take().release();
  }

  drop(): void {
    this.take().drop();
  }

  close(): Promise<void> {
    return new Promise((resolve) => { this.server.closeAllConnections(); this.server.close(() => resolve()); });
  }

  private take(): { release(): void; drop(): void } {
    const request = this.waiting;
    assert.ok(request, 'no console answer is being held');
    this.waiting = null;
    this.arrival = new Promise<void>((resolve) => { this.arrived = resolve; });
    return request;
  }
}

test('[kiosk] a VNC desktop opens in the page: a same-origin relay path and the desktop\'s VNC password, no viewer started', async () => {
  const k = kiosk();
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  const connection = await ok<Connection>(k, 'connect', { id: 'lin' });
  assert.ok(connection.kind === 'in-app', JSON.stringify(connection));
  assert.equal(connection.protocol, 'vnc', 'chosen for a Linux guest that offers only VNC');
  assert.match(connection.relayPath, /^\/relay\/[\w-]{20,}$/);
  assert.equal(connection.password, 'vnc-pw');
  assert.equal(connection.desktopName, 'Ana\'s Linux');
  assert.equal(k.viewers.started.length, 0);
});

test('[kiosk] an RDP desktop opens in a native viewer signed in as the person; the viewer\'s start and end reach the page, Ctrl+Alt+Del and Disconnect reach the viewer', async () => {
  const k = kiosk();
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  const connection = await ok<Connection>(k, 'connect', { id: 'win' });
  assert.ok(connection.kind === 'native', JSON.stringify(connection));
  assert.equal(connection.protocol, 'rdp');
  const [viewer] = k.viewers.started;
  assert.ok(viewer);
  assert.equal(connection.sessionId, viewer.id);
  assert.deepEqual(viewer.target, { host: '127.0.0.1', port: 16156, username: 'ana', password: 'ana-secret-pw', usb: true, sound: true, fullscreen: false });
  await eventOf(k, (e) => e.type === 'native-started' && e.sessionId === viewer.id, 2000);

  await ok(k, 'sendCtrlAltDel', { sessionId: viewer.id });
  assert.equal(viewer.ctrlAltDels, 1);
  // Also what the page sends when a connect answer arrives after the person left the desktop (view-session.ts).
  await ok(k, 'disconnect', { sessionId: viewer.id });
  assert.equal(viewer.stopped, true);
  assert.deepEqual(await eventOf(k, (e) => e.type === 'native-ended', 2000), { type: 'native-ended', sessionId: viewer.id, outcome: 'ended', message: 'The connection was closed.' });
  const gone = await refused(k, 'sendCtrlAltDel', { sessionId: viewer.id });
  assert.equal(gone.kind, 'not-found');
  assert.equal(gone.message, 'That connection has already ended.');
});

test('[kiosk] a SPICE desktop with USB redirection opens in the native viewer at its direct address, with its ticket', async () => {
  const k = kiosk();
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  const connection = await ok<Connection>(k, 'connect', { id: 'usb' });
  assert.ok(connection.kind === 'native', JSON.stringify(connection));
  assert.equal(connection.protocol, 'spice');
  assert.deepEqual(k.viewers.started.map((v) => v.target), [{ host: '127.0.0.1', port: 16157, password: 'spice-ticket', usb: true, fullscreen: false }]);
});

test('[kiosk] what the controller refuses or cannot do reaches the page as a sentence; the details go to the log', async () => {
  const k = kiosk(held.url);
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });

  const notMine = await refused(k, 'connect', { id: 'bobs' });
  assert.deepEqual(notMine, { kind: 'not-found', message: 'That desktop no longer exists. Refresh the list.' });
  const noProtocol = await refused(k, 'connect', { id: 'lin', protocol: 'rdp' });
  assert.deepEqual(noProtocol, { kind: 'not-ready', message: 'Ana\'s Linux offers no remote-desktop protocol this kiosk can use. Tell your administrator.' });

  const cut = k.service.call('connect', { id: 'lin' });
  await held.held();
  held.drop();
  const result = await cut;
  assert.ok(!result.ok);
  assert.deepEqual(result.error, { kind: 'unreachable', message: `The controller at 127.0.0.1:${HELD_PORT} cannot be reached. Check the network cable or Wi-Fi, then try again.` });
  assert.ok(k.logs.some((line) => /^warn connect: unreachable: desktops\/lin\/console: ECONNRESET/.test(line)), k.logs.join('\n'));
  assert.equal((await ok(k, 'state')).session?.user, 'ana', 'a controller that could not be reached does not end the session');
});

test('[kiosk] a desktop from the list shown: its console is asked for without waiting for the desktop\'s fresh record', async (t) => {
  // Port 16158: the controller in front of which the desktop's own record (not the list) is held.
  const slowRecords = new HeldConsoles(16158, ctl.url, (method, url) => method === 'GET' && /\/v1\/desktops\/[^/]+$/.test(url));
  await slowRecords.listen();
  t.after(() => slowRecords.close());
  const k = kiosk(slowRecords.url);
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });

  // Not listed yet: the record decides the protocol first, then the console is asked for.
  let opening = k.service.call('connect', { id: 'lin' }) as Promise<{ ok: true; value: Connection } | { ok: false; error: unknown }>;
  await slowRecords.held();
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(slowRecords.seen.filter((line) => line.endsWith('/lin/console')).length, 0, slowRecords.seen.join('\n'));
  slowRecords.release();
  let connection = await opening;
  assert.ok(connection.ok && connection.value.kind === 'in-app' && connection.value.protocol === 'vnc', JSON.stringify(connection));

  // Listed: the console request goes out while the record is still on its way, and the answer is the same.
  await ok(k, 'desktops');
  const before = slowRecords.seen.length;
  opening = k.service.call('connect', { id: 'lin' }) as typeof opening;
  await slowRecords.held();
  for (let i = 0; i < 100 && !slowRecords.seen.slice(before).some((line) => line.endsWith('/lin/console')); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(slowRecords.seen.slice(before), ['GET /v1/desktops/lin', 'POST /v1/desktops/lin/console']);
  slowRecords.release();
  connection = await opening;
  assert.ok(connection.ok && connection.value.kind === 'in-app' && connection.value.protocol === 'vnc' && connection.value.password === 'vnc-pw', JSON.stringify(connection));
});

// An answer in flight at logout once started xfreerdp signed in as the person who left (the
// browser shell's fresh page never asks to stop it): connect checks the session after its waits.
test('[kiosk] a console the controller hands out after the person logged out opens nothing: no viewer with their password for the next person', async () => {
  const k = kiosk(held.url);
  await ok(k, 'login', { username: 'ana', password: 'ana-secret-pw' });
  const late = k.service.call('connect', { id: 'win' });
  await held.held();
  await ok(k, 'logout');
  held.release();
  const result = await late;
  assert.equal(result.ok, false, `connect answered ${JSON.stringify(result)} after the logout`);
  assert.deepEqual(k.viewers.running, [], 'a viewer runs after its person logged out');
});
