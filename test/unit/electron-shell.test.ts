// The shell's life cycle, against the named Electron stand-in (the Electron binary cannot run
// here): one instance, the runtime started after Electron is ready and closed before the app
// exits, and the exits that hand over to the kiosk's systemd service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runKioskShell, type KioskShellOptions, type ShellRuntime } from '../../app/electron/kiosk-shell.js';
import { parseLaunchOptions } from '../../app/electron/launch-options.js';
import { RendererWatchdog } from '../../app/electron/renderer-watchdog.js';
import { createElectronStandIn, type StandInWindow } from '../support/electron-stand-in.js';
import { RecordingBackend } from '../support/recording-backend.js';

const ORIGIN = 'http://127.0.0.1:43210';

function runtime(close: () => Promise<void> = async () => {}) {
  const calls = { started: 0, closed: 0 };
  const value: ShellRuntime = {
    url: `${ORIGIN}/`,
    origin: ORIGIN,
    backend: new RecordingBackend(),
    close: async () => {
      calls.closed++;
      await close();
    },
  };
  return { calls, start: async () => { calls.started++; return value; } };
}

function options(start: () => Promise<ShellRuntime>, extra: Partial<KioskShellOptions> = {}) {
  const logged: string[] = [];
  const value: KioskShellOptions = {
    launch: parseLaunchOptions([], {}),
    preloadPath: '/preload.cjs',
    startRuntime: start,
    log: (_level, event) => logged.push(event),
    ...extra,
  };
  return { value, logged };
}

test('electron shell: a second instance quits without starting anything', async () => {
  const electron = createElectronStandIn({ singleInstanceLock: false });
  const rt = runtime();
  const { value, logged } = options(rt.start);
  assert.equal(await runKioskShell(electron.surface, value), null);
  assert.equal(electron.state.quitCalls, 1);
  assert.equal(rt.calls.started, 0);
  assert.equal(electron.windows.length, 0);
  assert.ok(logged.includes('already-running'));
});

test('electron shell: the running instance comes to the front when another is started', async () => {
  const electron = createElectronStandIn();
  const shell = await runKioskShell(electron.surface, options(runtime().start).value);
  const window = shell?.window as StandInWindow;
  window.minimized = true;
  electron.secondInstance();
  assert.equal(window.minimized, false);
  assert.equal(window.focused, 1);
});

test('electron shell: quitting waits for the runtime to close, then quits for real', async () => {
  const electron = createElectronStandIn();
  let finishClose = () => {};
  const rt = runtime(() => new Promise<void>((resolve) => { finishClose = resolve; }));
  const shell = await runKioskShell(electron.surface, options(rt.start).value);
  assert.equal(rt.calls.started, 1);
  const window = shell?.window as StandInWindow;

  electron.surface.app.quit(); // what Electron does on SIGTERM from systemd
  assert.equal(electron.state.quitted, false, 'held while the runtime closes');
  assert.equal(window.isDestroyed(), false);
  finishClose();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(rt.calls.closed, 1);
  assert.equal(electron.state.quitted, true);
  assert.equal(window.isDestroyed(), true, 'the window may close once quitting');
});

test('electron shell: a runtime that does not close in time does not block the quit', async () => {
  const electron = createElectronStandIn();
  const rt = runtime(() => new Promise<void>(() => {}));
  const { value, logged } = options(rt.start, { closeTimeoutMs: 20 });
  await runKioskShell(electron.surface, value);
  electron.surface.app.quit();
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(electron.state.quitted, true);
  assert.ok(logged.includes('runtime-close-failed'));
});

test('electron shell: a runtime that cannot start ends the app with an error', async () => {
  const electron = createElectronStandIn();
  const { value, logged } = options(async () => { throw new Error('EADDRINUSE'); });
  assert.equal(await runKioskShell(electron.surface, value), null);
  assert.deepEqual(electron.state.exitCodes, [1]);
  assert.equal(electron.windows.length, 0);
  assert.ok(logged.includes('runtime-failed'));
});

test('electron shell: a renderer that keeps dying closes the runtime and exits with an error', async () => {
  const electron = createElectronStandIn();
  const rt = runtime();
  const watchdog = new RendererWatchdog({ maxReloads: 1, windowMs: 60_000 }, () => 0);
  const shell = await runKioskShell(electron.surface, options(rt.start, { watchdog }).value);
  const contents = (shell?.window as StandInWindow).webContents;
  contents.rendererGone({ reason: 'crashed', exitCode: 139 });
  assert.deepEqual(electron.state.exitCodes, []);
  contents.rendererGone({ reason: 'crashed', exitCode: 139 });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(rt.calls.closed, 1);
  assert.deepEqual(electron.state.exitCodes, [1]);
});

test('electron shell: --no-kiosk without THINKIOSK_DEV=1 still starts a kiosk, and says why', async () => {
  const electron = createElectronStandIn();
  const { value, logged } = options(runtime().start, { launch: parseLaunchOptions(['/usr/lib/thinkiosk/thinkiosk', '--no-kiosk'], {}) });
  const shell = await runKioskShell(electron.surface, value);
  const window = shell?.window as StandInWindow;
  assert.equal(window.options.kiosk, true);
  assert.equal(window.options.webPreferences?.devTools, false);
  assert.ok(logged.includes('launch-flag-ignored'));
});
