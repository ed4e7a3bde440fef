/**
 * The controller asks static desktops whether they are up without tripping their defences
 * (controller/desktops/static/desktop-probe.ts, reachability.ts), against the real servers: TigerVNC, whose
 * blacklist refused the controller after five bare connect-and-close checks while a desktop list
 * stayed open (the demo's VNC desktop never opened); QEMU SPICE; freerdp-shadow.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DesktopList } from '../../contract/api.js';
import { ROUTES } from '../../contract/routes.js';
import { probeDesktop } from '../../controller/desktops/static/desktop-probe.js';
import { hashPassword } from '../../controller/core/password-hash.js';
import { startLocalDesktops, type LocalDesktops } from '../../scripts/local-desktops/start.js';
import { checkQuadPattern } from '../support/pattern.js';
import { grabVncScreen } from '../support/rfb.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';
import { exists, waitFor } from '../support/system-daemons.js';

// This file's share of the test range: ports 16200-16205, X displays :90, :91 and :92.
const PORTS = { vnc: 16200, spice: 16201, rdp: 16202, nobody: 16203, spareVnc: 16204, controller: 16205 };
const VNC_PASSWORD = 'vnc-pw34';
const SPICE_PASSWORD = 'spice-ticket';

let workDir: string;
let desktops: LocalDesktops;
const spare: { xvnc?: ChildProcess } = {};

before(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-probes-'));
  desktops = await startLocalDesktops({
    workDir: path.join(workDir, 'desktops'), vncPort: PORTS.vnc, spicePort: PORTS.spice, rdpPort: PORTS.rdp, displayBase: 90,
    vncPassword: VNC_PASSWORD, spicePassword: SPICE_PASSWORD, rdpUser: 'pat', rdpPassword: 'pat-pass',
  });
});

after(async () => {
  spare.xvnc?.kill('SIGTERM');
  await desktops?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

const xvncLog = (): string => readFileSync(path.join(workDir, 'desktops', 'log', 'xvnc.log'), 'utf8');
const accepted = (log: string): number => (log.match(/Connections: accepted/g) ?? []).length;

test('[static] the probes speak each server\'s protocol: up for VNC (with its password), SPICE and RDP; down when nothing listens', async () => {
  const target = (port: number, password?: string) => ({ host: '127.0.0.1', port, ...(password ? { password } : {}) });
  assert.deepEqual(await probeDesktop('vnc', target(PORTS.vnc, VNC_PASSWORD), 3000), { state: 'up' });
  assert.deepEqual(await probeDesktop('spice', target(PORTS.spice), 3000), { state: 'up' });
  assert.deepEqual(await probeDesktop('rdp', target(PORTS.rdp), 3000), { state: 'up' });
  assert.deepEqual(await probeDesktop('vnc', target(PORTS.nobody), 3000), { state: 'down', reason: 'refused' });
  assert.deepEqual(await probeDesktop('rdp', target(PORTS.vnc), 3000), { state: 'unprobeable', reason: 'it does not answer as an RDP server' }, 'a VNC server is not taken for an RDP one');
  const wrong = await probeDesktop('vnc', target(PORTS.vnc, 'not-it'), 3000);
  assert.deepEqual(wrong, { state: 'unprobeable', reason: 'it refuses the VNC password in the inventory' });
  // Many polite checks in a row: never blacklisted (and the one wrong password above is forgiven by the next success).
  for (let i = 0; i < 12; i++) assert.deepEqual(await probeDesktop('vnc', target(PORTS.vnc, VNC_PASSWORD), 3000), { state: 'up' }, `probe ${i + 1}`);
  assert.doesNotMatch(xvncLog(), /blacklisted/);
});

test('[static] the check the controller used to make (connect, close) gets it blacklisted by TigerVNC after five, and the probe then says the server refuses us', async () => {
  const dir = path.join(workDir, 'spare');
  const passwordFile = path.join(dir, 'passwd');
  rmSync(dir, { recursive: true, force: true });
  await import('node:fs').then((fs) => fs.mkdirSync(dir, { recursive: true }));
  const hashed = spawn('vncpasswd', ['-f'], { stdio: ['pipe', 'pipe', 'ignore'] });
  hashed.stdin!.end(`${VNC_PASSWORD}\n`);
  const bytes: Buffer[] = [];
  hashed.stdout!.on('data', (chunk: Buffer) => bytes.push(chunk));
  await new Promise((resolve) => hashed.once('exit', resolve));
  writeFileSync(passwordFile, Buffer.concat(bytes), { mode: 0o600 });
  spare.xvnc = spawn('Xvnc', [':92', '-geometry', '320x200', '-rfbport', String(PORTS.spareVnc), '-localhost', '-interface', '127.0.0.1',
    '-SecurityTypes', 'VncAuth', '-PasswordFile', passwordFile, '-nolisten', 'tcp'], { stdio: 'ignore' });
  await waitFor('the spare Xvnc', () => exists('/tmp/.X11-unix/X92'));
  await waitFor('its VNC port', () => new Promise<true | undefined>((resolve) => {
    const s = net.connect(PORTS.spareVnc, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(undefined));
  }));
  // That one connection above was already a bare one; four more make five.
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((resolve) => {
      const s = net.connect(PORTS.spareVnc, '127.0.0.1', () => { s.destroy(); resolve(); });
      s.once('error', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const outcome = await probeDesktop('vnc', { host: '127.0.0.1', port: PORTS.spareVnc, password: VNC_PASSWORD }, 3000);
  assert.equal(outcome.state, 'refusing', JSON.stringify(outcome));
  assert.match(outcome.state === 'refusing' ? outcome.reason : '', /too many/i);
});

test('[static] twenty kiosks with their lists open and refreshing: each server is asked at most once per interval, TigerVNC never blacklists the controller, and the desktop still opens', async () => {
  const hash = await hashPassword('pat-pass', { N: 1024, r: 8, p: 1 });
  const ctl: StaticController = await startStaticController({
    workDir, port: PORTS.controller, staticSettings: { probeIntervalSeconds: 5 }, inventory: `
users: [{ name: pat, password: "${hash}" }]
desktops:
  - id: lab
    name: Lab PC
    guestOs: { family: other }
    endpoints:
      vnc: { host: 127.0.0.1, port: ${PORTS.vnc}, password: ${VNC_PASSWORD} }
      spice: { host: 127.0.0.1, port: ${PORTS.spice}, password: ${SPICE_PASSWORD} }
      rdp: { host: 127.0.0.1, port: ${PORTS.rdp} }
    users: [pat]
` });
  try {
    const token = await ctl.login('pat', 'pat-pass');
    const before = accepted(xvncLog());
    const seconds = 16;
    const started = Date.now();
    let lists = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (Date.now() - started < seconds * 1000) {
        const list = DesktopList.parse((await ctl.call(ROUTES.desktops, { token })).body).desktops;
        assert.equal(list[0]?.status, 'ACTIVE', JSON.stringify(list[0]));
        lists += 1;
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    }));
    const asked = accepted(xvncLog()) - before;
    // One probe at the start, then at most one per 5 s interval: 16 s → at most 4 (plus one in flight at the end).
    assert.ok(lists > 200, `${lists} lists`);
    assert.ok(asked >= 1 && asked <= 5, `the VNC server was asked ${asked} times for ${lists} lists`);
    assert.doesNotMatch(xvncLog(), /blacklisted/);
    const vnc = (await ctl.call(ROUTES.console, { params: { id: 'lab' }, token, body: { protocol: 'vnc' } })).body as { websocketUrl: string; password: string };
    const screen = await grabVncScreen(vnc.websocketUrl, { password: vnc.password });
    const pattern = checkQuadPattern(screen.png);
    assert.ok(pattern.ok, pattern.detail);
  } finally {
    await ctl.close();
  }
});
