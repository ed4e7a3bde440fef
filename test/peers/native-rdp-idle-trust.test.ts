/**
 * The kiosk service with the real native RDP viewer (xfreerdp, wired exactly as the kiosk wires it:
 * createNativeViewers with the settings directory) against a real freerdp-shadow desktop with NLA,
 * through a real controller (static backend):
 * - idle logout with the viewer open: input on the viewer's display (xdotool) keeps the session;
 *   none ends it at the idle limit and the viewer is gone;
 * - the desktop's certificate is remembered in the settings directory and survives a kiosk
 *   restart; the same desktop with a new key (a restarted server with a fresh HOME generates one) is
 *   refused with a sentence, and the viewer stops before NLA: the new server never receives even the
 *   first authentication token, let alone anything derived from the password.
 * Stand-in, named as such: the admin system tools (not used here).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { hashPassword } from '../../controller/core/password-hash.js';
import { KioskConsoleRelay } from '../../app/core/kiosk-console-relay.js';
import type { Connection, KioskEvent } from '../../app/core/kiosk-api.js';
import { KioskService, type AdminTools } from '../../app/core/kiosk-service.js';
import { createNativeViewers, RDP_CONFIG_SUBDIR } from '../../app/core/native-viewers.js';
import { Settings } from '../../app/core/settings.js';
import { ntHash } from '../../scripts/local-desktops/nt-hash.js';
import { ProcessGroup, requireFreeDisplay, requireFreePort } from '../../scripts/local-desktops/processes.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';
import { alive, startViewerScreen, type ViewerScreen } from '../support/viewer-screen.js';

const run = promisify(execFile);

// K2's range: ports 16125 (RDP desktop), 16126 (controller); X displays :75 (the desktop's), :76 (the kiosk's screen).
const RDP_PORT = 16125;
const CONTROLLER_PORT = 16126;
const SERVER_DISPLAY = 75;
const KIOSK_DISPLAY = 76;
const USER = 'kim';
const PASSWORD = 'Kim-pass 7!';
const IDLE_SECONDS = 10;

let work: string;
let ctl: StaticController;
let screen: ViewerScreen;
let serverGroup: ProcessGroup;
let serverLog: string;

/** The RDP desktop: freerdp-shadow on its own Xvfb; a fresh HOME makes it generate a new TLS key. */
async function startRdpServer(home: string): Promise<void> {
  await requireFreePort(RDP_PORT, 'the RDP desktop');
  mkdirSync(home, { recursive: true });
  const sam = path.join(work, 'sam.txt');
  writeFileSync(sam, `${USER}:::${ntHash(PASSWORD)}:::\n`, { mode: 0o600 });
  const shadow = serverGroup.start(`shadow-${path.basename(home)}`, 'freerdp-shadow-cli',
    [`/bind-address:127.0.0.1`, `/port:${RDP_PORT}`, '+auth', '/sec:nla', `/sam-file:${sam}`],
    // DEBUG: the server's log says whether a client ever sent it an NLA token.
    { DISPLAY: `:${SERVER_DISPLAY}`, HOME: home, WLOG_LEVEL: 'DEBUG' });
  serverLog = shadow.log;
  await serverGroup.waitForTcp(shadow, RDP_PORT);
}

async function stopRdpServer(): Promise<void> {
  await serverGroup.stopAll();
  serverGroup = new ProcessGroup(path.join(work, 'log'));
  const xvfb = serverGroup.start('xvfb-server', 'Xvfb', [`:${SERVER_DISPLAY}`, '-screen', '0', '800x600x24', '-nolisten', 'tcp', '-noreset']);
  await serverGroup.waitForX(xvfb, SERVER_DISPLAY);
}

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-rdp-idle-trust-'));
  mkdirSync(path.join(work, 'log'));
  requireFreeDisplay(SERVER_DISPLAY);
  serverGroup = new ProcessGroup(path.join(work, 'log'));
  await stopRdpServer(); // starts the server's Xvfb
  screen = await startViewerScreen(KIOSK_DISPLAY, path.join(work, 'log'));
  ctl = await startStaticController({ workDir: work, port: CONTROLLER_PORT, inventory: `
users: [{ name: ${USER}, password: "${await hashPassword(PASSWORD)}" }]
desktops:
  - id: win
    name: Windows desk
    guestOs: { family: windows, distro: windows, version: "11" }
    endpoints: { rdp: { host: 127.0.0.1, port: ${RDP_PORT} } }
    users: [${USER}]
` });
});

after(async () => {
  await ctl?.close();
  await serverGroup?.stopAll();
  await screen?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Stand-in for app/core/system's tools: nothing to lock, nothing else used by these tests. */
const noAdminTools = new Proxy({}, {
  get: (_target, name) => (name === 'lockAll' ? async () => undefined : async () => { throw new Error('not used by this test'); }),
}) as AdminTools;

interface Kiosk { service: KioskService; events: KioskEvent[]; logs: string[]; settingsDir: string; close(): Promise<void> }

/** A kiosk as kiosk-runtime builds it (same native viewers, same settings directory handling). */
function startKioskService(settingsDir: string, idleSeconds = 0): Kiosk {
  mkdirSync(settingsDir, { recursive: true });
  const settings = new Settings(settingsDir);
  settings.update({ controllerUrl: ctl.url, idleLogoutSeconds: idleSeconds });
  const home = path.join(work, 'kiosk-home'); // RAM on the image: nothing the kiosk needs may live here
  mkdirSync(home, { recursive: true });
  const native = createNativeViewers({ settingsDir, env: { PATH: process.env.PATH, DISPLAY: screen.display, HOME: home, LANG: 'C.UTF-8' } });
  const logs: string[] = [];
  const service = new KioskService({ settings, native, admin: noAdminTools, relay: new KioskConsoleRelay(), log: (level, message) => logs.push(`${level} ${message}`), fullscreenViewers: false });
  const events: KioskEvent[] = [];
  service.subscribe((event) => events.push(event));
  return { service, events, logs, settingsDir, close: () => service.close() };
}

async function call<T>(kiosk: Kiosk, method: string, args: unknown = {}): Promise<T> {
  const result = await kiosk.service.call(method, args);
  assert.ok(result.ok, `${method}: ${JSON.stringify(!result.ok && result.error)}`);
  return result.value as T;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The xfreerdp processes connected to this test's desktop (their command lines name its port). */
function viewerPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      return cmdline.startsWith('/usr/bin/xfreerdp') && cmdline.includes(`/v:127.0.0.1:${RDP_PORT}`);
    } catch {
      return false;
    }
  });
}

async function openRdp(kiosk: Kiosk): Promise<{ sessionId: string; pid: number }> {
  const connection = await call<Connection>(kiosk, 'connect', { id: 'win' });
  assert.equal(connection.kind, 'native');
  const sessionId = (connection as { sessionId: string }).sessionId;
  const event = await until('the viewer shows the desktop', () => kiosk.events.find((e) => (e.type === 'native-started' || e.type === 'native-ended') && e.sessionId === sessionId), 40_000);
  assert.equal(event.type, 'native-started', JSON.stringify(event));
  const [pid] = viewerPids();
  assert.ok(pid, 'xfreerdp runs');
  return { sessionId, pid };
}

test('[kiosk][xfreerdp] idle logout with the RDP viewer open: input on the viewer\'s display keeps the session; none ends it and closes the viewer', async (t) => {
  const kiosk = startKioskService(path.join(work, 'settings-idle'), IDLE_SECONDS);
  t.after(() => kiosk.close());
  await startRdpServer(path.join(work, 'shadow-home-idle'));
  t.after(() => stopRdpServer());

  await call(kiosk, 'login', { username: USER, password: PASSWORD });
  const { pid } = await openRdp(kiosk);

  // A person working in the desktop: the page sees nothing, the X server sees the pointer move.
  const busyUntil = Date.now() + IDLE_SECONDS * 2500;
  let lastInput = 0;
  for (let step = 0; Date.now() < busyUntil; step += 1) {
    await run('xdotool', ['mousemove', String(100 + (step % 2) * 50), '100'], { env: { ...process.env, DISPLAY: screen.display } });
    lastInput = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  assert.equal(kiosk.events.find((e) => e.type === 'session-ended'), undefined, `logged out while in use: ${kiosk.logs.join('\n')}`);
  assert.ok(alive(pid), 'the viewer is still open');
  assert.equal((await call<{ session: unknown }>(kiosk, 'state')).session !== null, true);

  // The person walked away after the last move.
  const ended = await until('idle logout', () => kiosk.events.find((e) => e.type === 'session-ended'), IDLE_SECONDS * 1000 + 15_000);
  const seconds = (Date.now() - lastInput) / 1000;
  t.diagnostic(`logged out ${seconds.toFixed(1)} s after the last input (limit ${IDLE_SECONDS} s)`);
  assert.deepEqual(ended, { type: 'session-ended', reason: 'idle' });
  assert.ok(seconds >= IDLE_SECONDS - 0.5, `not before the limit (${seconds} s)`);
  await until('the viewer is gone', () => (alive(pid) ? undefined : true), 10_000);
  assert.deepEqual(viewerPids(), []);
  assert.equal((await call<{ session: unknown }>(kiosk, 'state')).session, null);
  assert.ok(kiosk.logs.some((line) => /idle for \d+ s with a viewer open: logging kim out/.test(line)), kiosk.logs.join('\n'));
  assert.ok(!kiosk.logs.join('\n').includes(PASSWORD), 'no password in the log');
});

test('[kiosk][xfreerdp] an RDP desktop\'s certificate is remembered in the settings directory across a restart; a changed one is refused before any credential is sent', async (t) => {
  const settingsDir = path.join(work, 'settings-trust');
  await startRdpServer(path.join(work, 'shadow-home-1'));
  t.after(() => stopRdpServer());

  // First contact: trusted and remembered (trust on first use).
  const first = startKioskService(settingsDir);
  await call(first, 'login', { username: USER, password: PASSWORD });
  const { sessionId } = await openRdp(first);
  const knownHosts = path.join(settingsDir, RDP_CONFIG_SUBDIR, 'freerdp', 'known_hosts2');
  assert.ok(existsSync(knownHosts), `FreeRDP 2 keeps its store in the settings directory: ${knownHosts}`);
  const remembered = readFileSync(knownHosts, 'utf8');
  assert.match(remembered, new RegExp(`^127\\.0\\.0\\.1 ${RDP_PORT} [0-9a-f:]{95} `, 'm'));
  assert.ok(!existsSync(path.join(work, 'kiosk-home', '.config', 'freerdp')), 'nothing in $HOME (RAM on the image)');
  await call(first, 'disconnect', { sessionId });
  await until('the viewer ends', () => first.events.find((e) => e.type === 'native-ended'), 15_000);
  assert.match(readFileSync(serverLog, 'utf8'), /Receiving Authentication Token/, 'witness: the server logs the NLA tokens it receives');
  await call(first, 'logout');
  await first.close();

  // The desktop comes back with another key (or someone answers in its place); the kiosk restarted meanwhile.
  await stopRdpServer();
  await startRdpServer(path.join(work, 'shadow-home-2'));
  const impostorLog = serverLog;

  const second = startKioskService(settingsDir);
  t.after(() => second.close());
  await call(second, 'login', { username: USER, password: PASSWORD });
  const connection = await call<Connection>(second, 'connect', { id: 'win' });
  const ended = await until('the viewer ends', () => second.events.find((e) => e.type === 'native-ended' && e.sessionId === (connection as { sessionId: string }).sessionId), 40_000);
  assert.ok(ended.type === 'native-ended');
  assert.equal(ended.outcome, 'certificate', ended.message);
  assert.equal(ended.cause, 'certificate-changed');
  assert.match(ended.message, /security certificate of the desktop at 127\.0\.0\.1:16125 has changed since this kiosk last connected, so it did not connect/);
  assert.equal(second.events.find((e) => e.type === 'native-started'), undefined, 'never connected');
  assert.deepEqual(viewerPids(), [], 'the viewer stopped by itself');
  // Nothing derived from the password reached the new server: the client never started NLA.
  const impostor = readFileSync(impostorLog, 'utf8');
  assert.doesNotMatch(impostor, /Receiving Authentication Token|NTLM_STATE_AUTHENTICATE/, 'the impostor received an NLA token');
  assert.equal(readFileSync(knownHosts, 'utf8'), remembered, 'the changed certificate was not accepted into the store');
  t.diagnostic(`refused: ${ended.message}`);
});
