/**
 * Screen settings against real display servers: xrandr on Xvfb (RandR with one fixed mode) and on
 * TigerVNC's Xvnc (RandR with a list of modes it can switch between), and wlr-randr on cage, the
 * appliance's Wayland compositor, run headless. Displays :31 and :32 (+ VNC port 16501), :39 unused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Displays } from '../../app/core/system/display.js';
import { SystemError } from '../../app/core/system/system-error.js';
import { exists, startDaemon, waitFor, type Daemon } from '../support/system-daemons.js';

const XVFB = ':31';
const XVNC = ':32';
const NOBODY = 65534;
const daemons: Daemon[] = [];
let runtimeDir = '';

function x(display: string): Displays {
  return new Displays({ env: { ...process.env, DISPLAY: display, WAYLAND_DISPLAY: '' } });
}

before(async () => {
  // -noreset: each xrandr is the only client, and an X server resets when its last client leaves,
  // refusing connections meanwhile; a kiosk's X server always has its own window as a client.
  daemons.push(startDaemon('Xvfb', [XVFB, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp', '-noreset']));
  daemons.push(startDaemon('Xvnc', [XVNC, '-geometry', '1280x800', '-SecurityTypes', 'None', '-localhost', '-rfbport', '16501', '-nolisten', 'tcp', '-noreset']));
  await waitFor('Xvfb', () => exists(`/tmp/.X11-unix/X${XVFB.slice(1)}`));
  await waitFor('Xvnc', () => exists(`/tmp/.X11-unix/X${XVNC.slice(1)}`));

  // cage refuses to run as root; as root here, it runs as nobody with a runtime dir of its own.
  runtimeDir = await mkdtemp(join(tmpdir(), 'thinkiosk-cage-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chown(runtimeDir, NOBODY, NOBODY);
  const env = { ...process.env, XDG_RUNTIME_DIR: runtimeDir, WLR_BACKENDS: 'headless', WLR_LIBINPUT_NO_DEVICES: '1', WLR_RENDERER: 'pixman', WAYLAND_DISPLAY: '', DISPLAY: '' };
  const cage = ['cage', '--', 'sleep', '600'];
  daemons.push(asRoot ? startDaemon('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...cage], { env }) : startDaemon(cage[0]!, cage.slice(1), { env }));
  await waitFor('cage', () => exists(join(runtimeDir, 'wayland-0')));
});

after(async () => {
  await Promise.all(daemons.map((d) => d.stop()));
  await rm(runtimeDir, { recursive: true, force: true });
});

test('xrandr on Xvfb: the one output and its one mode; unknown modes and outputs are refused clearly', async () => {
  const displays = x(XVFB);
  assert.deepEqual(await displays.outputs(), [{ name: 'screen', modes: ['1280x1024'], current: '1280x1024' }]);
  await displays.setMode('screen', '1280x1024');
  await assert.rejects(displays.setMode('screen', '800x600'), (e: unknown) => e instanceof SystemError && e.kind === 'invalid-input' && /does not offer 800x600/.test(e.message));
  // xrandr itself only warns and exits 0 for an unknown output: the module must not report success.
  await assert.rejects(displays.setMode('HDMI-9', '1280x1024'), (e: unknown) => e instanceof SystemError && /no screen called HDMI-9/.test(e.message));
});

test('xrandr on Xvnc: switches the mode and reads it back', async () => {
  const displays = x(XVNC);
  const [before] = await displays.outputs();
  assert.equal(before!.name, 'VNC-0');
  assert.equal(before!.current, '1280x800');
  assert.ok(before!.modes.includes('1024x768'));
  await displays.setMode('VNC-0', '1024x768');
  const [after] = await displays.outputs();
  assert.equal(after!.current, '1024x768');
  await displays.setMode('VNC-0', '1280x800');
});

test('xrandr with no X server there: says the display server cannot be reached', async () => {
  await assert.rejects(x(':39').outputs(), (e: unknown) => e instanceof SystemError && e.kind === 'system' && /cannot reach its display server \(X\)/.test(e.message));
});

test('wlr-randr on cage (Debian 12): no output management, so the answer says how to set a resolution instead', async () => {
  const displays = new Displays({ env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir, WAYLAND_DISPLAY: 'wayland-0', DISPLAY: ':31' } });
  await assert.rejects(displays.outputs(), (e: unknown) => e instanceof SystemError && /cannot be changed from the kiosk.*cage.*video=/.test(e.message));
  await assert.rejects(displays.setMode('HEADLESS-1', '1280x720'), (e: unknown) => e instanceof SystemError && /cannot be changed from the kiosk/.test(e.message));
});

test('no display server at all', async () => {
  const displays = new Displays({ env: { PATH: process.env.PATH } });
  await assert.rejects(displays.outputs(), (e: unknown) => e instanceof SystemError && /not running on a display server/.test(e.message));
});
