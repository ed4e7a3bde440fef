/**
 * A kiosk on a machine without a screen (the demo on a server, a test): the browser shell makes its
 * own virtual X display, and that display is the kiosk process's own, so the native viewers it
 * starts open where Chromium is. Before, Chromium got the display but xfreerdp and remote-viewer did
 * not ("The viewer could not open its window on this kiosk's screen"). A person logs in on that
 * screen and connects to a real RDP desktop (freerdp-shadow): xfreerdp's window is on the virtual
 * display and shows the desktop's picture. The display lets in only clients with its cookie, and
 * its VNC view asks for a password.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { hashPassword } from '../../controller/core/password-hash.js';
import { startLocalDesktops } from '../../scripts/local-desktops/start.js';
import { startStaticController } from '../support/static-harness.js';
import { startDaemon, waitFor, type Daemon } from '../support/system-daemons.js';
import { checkQuadPattern } from '../support/pattern.js';
import { commandLinesHolding } from './command-lines.js';
import { blueButtonBelow, findPhrase, RealScreen } from './real-screen.js';

const run = promisify(execFile);

// This file's share of the kiosk tests' range: X displays :71 (the shell's own), :73 and :74 (the
// local desktops); ports 16106 (controller), 16107 (kiosk page), 16108 (the display's VNC view),
// 16110-16112 (VNC, SPICE, RDP desktops).
const SHELL_DISPLAY = ':71';
const PORTS = { controller: 16106, kiosk: 16107, vncView: 16108, vnc: 16110, spice: 16111, rdp: 16112 };

async function startHeadlessKiosk(t: TestContext): Promise<{ dir: string; shell: Daemon; xauthority: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-viewer-display-'));
  const stops: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const desktops = await startLocalDesktops({
    workDir: path.join(dir, 'desktops'), vncPort: PORTS.vnc, spicePort: PORTS.spice, rdpPort: PORTS.rdp, displayBase: 73,
    vncPassword: 'vncpw123', spicePassword: 'spice-tkt', rdpUser: 'kim', rdpPassword: 'kim-pass',
  });
  stops.push(() => desktops.stop());
  const controller = await startStaticController({
    workDir: dir, port: PORTS.controller, inventory: `
users:
  - { name: kim, password: "${await hashPassword('kim-pass')}" }
desktops:
  - id: win
    name: Windows desk
    guestOs: { family: windows, distro: windows, version: "11" }
    addresses: [{ ip: 127.0.0.1, mac: "52:54:00:00:71:01", network: lab }]
    endpoints: { rdp: { host: 127.0.0.1, port: ${PORTS.rdp} } }
    users: [kim]
`,
  });
  stops.push(() => controller.close());
  writeFileSync(path.join(dir, 'thinkiosk.conf'), `controller = ${controller.url}\n`);
  mkdirSync(path.join(dir, 'home'));
  // No DISPLAY and no WAYLAND_DISPLAY: a machine without a screen.
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: path.join(dir, 'home'), LANG: 'C.UTF-8' };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  delete env.XAUTHORITY;
  const shell = startDaemon(process.execPath, [
    'dist/app/shell/main.js', '--settings-dir', path.join(dir, 'settings'), '--preset', path.join(dir, 'thinkiosk.conf'),
    '--port', String(PORTS.kiosk), '--virtual-display', SHELL_DISPLAY, '--virtual-vnc-port', String(PORTS.vncView),
  ], { env });
  stops.push(async () => {
    await shell.stop();
    assert.equal(existsSync(`/tmp/.X11-unix/X${SHELL_DISPLAY.slice(1)}`), false, 'the shell\'s display ends with the shell');
  });
  await waitFor('the kiosk page', async () => (/THINKIOSK-KIOSK-READY/.test(shell.output()) ? true : undefined), 120_000)
    .catch((error: Error) => { throw new Error(`${error.message}:\n${shell.output()}`); });
  const xauthority = /XAUTHORITY=(\S+) import/.exec(shell.output())?.[1];
  assert.ok(xauthority, `the shell says how to take a screenshot:\n${shell.output()}`);
  return { dir, shell, xauthority };
}

/** The security types a VNC server offers a new client (RFB 3.8 handshake). */
function vncSecurityTypes(port: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let sentVersion = false;
    const timer = setTimeout(() => reject(new Error(`no VNC handshake on ${port}`)), 10_000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (!sentVersion && data.length >= 12) {
        sentVersion = true;
        socket.write('RFB 003.008\n');
        data = data.subarray(12);
      }
      if (sentVersion && data.length >= 1 && data.length >= 1 + data[0]!) {
        clearTimeout(timer);
        socket.destroy();
        resolve([...data.subarray(1, 1 + data[0]!)]);
      }
    });
  });
}

test('[kiosk][shell][xfreerdp] on a machine without a screen, RDP from the page opens xfreerdp on the shell\'s own display', { timeout: 300_000 }, async (t) => {
  const { dir, shell, xauthority } = await startHeadlessKiosk(t);

  // Only clients with the display's cookie get in; the VNC view wants its password.
  await assert.rejects(run('xwininfo', ['-root', '-display', SHELL_DISPLAY], { env: { ...process.env, XAUTHORITY: path.join(dir, 'no-such-cookie') } }), 'a client without the cookie is refused');
  const types = await waitFor('the VNC view', async () => vncSecurityTypes(PORTS.vncView).catch(() => undefined), 15_000);
  assert.ok(!types.includes(1) && types.includes(2), `the VNC view asks for a password (security types ${types.join(',')})`);
  assert.match(shell.output(), new RegExp(`VNC viewer on 127\\.0\\.0\\.1:${PORTS.vncView}, password \\S+`));

  const shots = path.join(dir, 'screens');
  mkdirSync(shots);
  const screen = new RealScreen(SHELL_DISPLAY, shots, { XAUTHORITY: xauthority });
  const login = await screen.waitForSteady(/Log in/, 60_000, 'login');
  await screen.clickOn(login, 'User name');
  await screen.type('kim');
  await screen.key('Tab');
  await screen.type('kim-pass');
  await screen.key('Return');
  const list = await screen.waitFor(/Windows desk/, 30_000, 'list');
  const name = findPhrase(list, 'Windows desk')!;
  // The row's blue "Connect" button (it turns blue once the controller has seen the desktop up).
  let connect = blueButtonBelow(list.png, { ...name, height: 0 });
  for (let i = 0; !connect && i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const again = await screen.capture('list-waiting');
    const row = findPhrase(again, 'Windows desk');
    connect = row ? blueButtonBelow(again.png, { ...row, height: 0 }) : null;
  }
  assert.ok(connect, 'the Connect button of the RDP desktop is there');
  await screen.click(connect.x, connect.y);

  // xfreerdp's window on the shell's display, showing the desktop's picture.
  const tree = await waitFor('xfreerdp\'s window on the kiosk\'s display', async () => {
    const { stdout } = await run('xwininfo', ['-root', '-tree', '-display', SHELL_DISPLAY], { env: screen.env });
    return /FreeRDP/i.test(stdout) ? stdout : undefined;
  }, 60_000).catch((error: Error) => { throw new Error(`${error.message}\n${shell.output().slice(-3000)}`); });
  assert.match(tree, /FreeRDP/i);
  let picture = { ok: false, detail: 'no capture' };
  for (let i = 0; i < 40 && !picture.ok; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    picture = checkQuadPattern(await screen.grab());
  }
  assert.ok(picture.ok, `the RDP desktop's picture is on the kiosk's screen: ${picture.detail}`);
  assert.doesNotMatch(shell.output(), /could not open its window/);
  // Xvfb, x11vnc, Chromium and xfreerdp are running: none has a password on its command line.
  const vncPassword = new RegExp(`127\\.0\\.0\\.1:${PORTS.vncView}, password (\\S+)`).exec(shell.output())![1]!;
  assert.deepEqual(commandLinesHolding(['kim-pass', vncPassword, '#boot=', '#key=']), []);
});
