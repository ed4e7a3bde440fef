/**
 * The native RDP viewer (xfreerdp, through NativeLauncher) against a real freerdp-shadow server with
 * NLA (scripts/local-desktops/start.ts), drawing on an Xvfb of its own: the picture arrives, the password
 * stays off argv, Ctrl+Alt+Del reaches the server's X display, and every way of failing ends in
 * its outcome: wrong password, refused port, a server that never answers (timeout), a missing
 * client, and the server going away mid-session.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NativeLauncher, NativeSessionEnded, type RdpTarget } from '../../app/core/native/native-session.js';
import { startLocalDesktops, type LocalDesktops } from '../../scripts/local-desktops/start.js';
import { alive, rssKiB, startViewerScreen, type ViewerScreen } from '../support/viewer-screen.js';

// This file's share of the test range: ports 16020-16024, X displays :53 (viewer), :54 and :55 (servers).
const PORTS = { vnc: 16020, spice: 16021, rdp: 16022, closed: 16023, silent: 16024 };
const VIEWER_DISPLAY = 53;
const DISPLAY_BASE = 54; // the RDP server shares :55
const RDP_USER = 'kioskuser';
const RDP_PASSWORD = 'Rdp-pass 42!';

let workDir: string;
let desktops: LocalDesktops | null = null;
let screen: ViewerScreen | null = null;
let launcher: NativeLauncher;
let env: NodeJS.ProcessEnv;

before(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-native-rdp-'));
  const home = path.join(workDir, 'home'); // FreeRDP keeps the certificates it has seen under $HOME
  mkdirSync(home);
  desktops = await startLocalDesktops({
    workDir: path.join(workDir, 'desktops'), vncPort: PORTS.vnc, spicePort: PORTS.spice, rdpPort: PORTS.rdp, displayBase: DISPLAY_BASE,
    vncPassword: 'vnc-pw', spicePassword: 'spice-pw', rdpUser: RDP_USER, rdpPassword: RDP_PASSWORD,
  });
  screen = await startViewerScreen(VIEWER_DISPLAY, workDir);
  env = { PATH: process.env.PATH, DISPLAY: screen.display, HOME: home, LANG: 'C.UTF-8' };
  launcher = new NativeLauncher({ env, connectTimeoutMs: 20_000 });
});

after(async () => {
  await launcher?.stopAll();
  await screen?.stop();
  await desktops?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

function target(overrides: Partial<RdpTarget> = {}): RdpTarget {
  return { host: '127.0.0.1', port: PORTS.rdp, username: RDP_USER, password: RDP_PASSWORD, usb: true, sound: true, fullscreen: true, ...overrides };
}

test('xfreerdp connects with NLA: the picture shows, the password is on no command line, Ctrl+Alt+Del reaches the server', async (t) => {
  const t0 = Date.now();
  const session = launcher.startRdp(target());
  await session.started;
  const startedMs = Date.now() - t0;
  const pid = session.pid;
  assert.ok(pid !== null && alive(pid));
  for (const file of ['cmdline', 'environ']) {
    assert.ok(!readFileSync(`/proc/${pid}/${file}`, 'latin1').includes(RDP_PASSWORD), `password in /proc/<pid>/${file}`);
  }
  const shot = await screen!.waitForPattern(15_000);
  assert.ok(shot.ok, `the desktop's picture did not show: ${shot.detail}`);
  t.diagnostic(`xfreerdp: started after ${startedMs} ms, picture after ${startedMs + shot.ms} ms, RSS ${await rssKiB(pid)} KiB`);

  // Ctrl+Alt+Del: the shadow server injects what it receives into its X display, where xev listens.
  const xev = spawn('xev', ['-geometry', '800x600+0+0', '-event', 'keyboard'], { env: { ...process.env, DISPLAY: `:${DISPLAY_BASE + 1}` } });
  let events = '';
  xev.stdout.on('data', (d: Buffer) => { events += d.toString(); });
  try {
    await new Promise((resolve) => setTimeout(resolve, 800)); // xev's window mapped and under the pointer
    await session.sendCtrlAltDel();
    // xev prints one paragraph per event; "state 0xc" is Control and Mod1 (Alt) held while Delete went down.
    const ctrlAltDelete = () => events.split(/\n\s*\n/).some((e) => e.includes('KeyPress event') && /state 0xc, keycode \d+ \(keysym 0xffff, Delete\)/.test(e));
    const deadline = Date.now() + 5000;
    while (!ctrlAltDelete() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(ctrlAltDelete(), `no Ctrl+Alt+Delete on the server's display; xev saw: ${events.slice(-800)}`);
  } finally {
    xev.kill();
  }

  await session.stop();
  assert.deepEqual(await session.result, { outcome: 'ended', message: 'The session was closed.' });
  assert.equal(alive(pid), false, 'the viewer is gone');
  assert.equal(session.pid, null);
  assert.ok(session.outputTail().some((line) => line.includes('CONNECTION_STATE_ACTIVE')), 'the tail keeps the viewer output');
  assert.ok(!session.outputTail().some((line) => line.includes(RDP_PASSWORD)));
});

test('xfreerdp: a wrong password ends as wrong-password, and started rejects', async () => {
  const session = launcher.startRdp(target({ password: 'not-the-password' }));
  await assert.rejects(session.started, (error: unknown) => error instanceof NativeSessionEnded && error.result.outcome === 'wrong-password');
  const result = await session.result;
  assert.equal(result.outcome, 'wrong-password');
  assert.match(result.message, /did not accept your user name or password/);
});

test('xfreerdp: a closed port is unreachable', async () => {
  const result = await launcher.startRdp(target({ port: PORTS.closed })).result;
  assert.equal(result.outcome, 'unreachable');
  assert.match(result.message, new RegExp(`127\\.0\\.0\\.1:${PORTS.closed} does not answer`));
});

test('xfreerdp: a server that accepts but never answers runs into the connect timeout, and the viewer is stopped', async () => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => { sockets.push(socket); });
  await new Promise<void>((resolve) => silent.listen(PORTS.silent, '127.0.0.1', resolve));
  try {
    const quick = new NativeLauncher({ env, connectTimeoutMs: 3000 });
    const t0 = Date.now();
    const session = quick.startRdp(target({ port: PORTS.silent }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const pid = session.pid;
    const result = await session.result;
    assert.equal(result.outcome, 'timeout');
    assert.match(result.message, /within 3 seconds/);
    assert.ok(Date.now() - t0 < 3000 + 4000, `took ${Date.now() - t0} ms`);
    assert.ok(pid !== null && !alive(pid), 'the viewer was stopped');
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test('xfreerdp missing: client-missing, naming the Debian package', async () => {
  const missing = new NativeLauncher({ env, binaries: { xfreerdp: path.join(workDir, 'no-such-dir', 'xfreerdp') } });
  const session = missing.startRdp(target());
  await assert.rejects(session.started);
  const result = await session.result;
  assert.equal(result.outcome, 'client-missing');
  assert.match(result.message, /freerdp2-x11/);
});

// Last: it stops the shared servers.
test('xfreerdp: the server going away mid-session is disconnected', async () => {
  const session = launcher.startRdp(target({ usb: false, sound: false }));
  await session.started;
  await desktops!.stop();
  desktops = null;
  const result = await session.result;
  assert.equal(result.outcome, 'disconnected', result.message);
});
