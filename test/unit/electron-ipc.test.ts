// The IPC door between the kiosk page and the backend, against the named Electron stand-in (the
// Electron binary cannot run here): who may call, which methods, and where events go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type KioskEvent } from '../../app/core/kiosk-api.js';
import { openKioskWindow } from '../../app/electron/kiosk-window.js';
import { parseLaunchOptions } from '../../app/electron/launch-options.js';
import { createElectronStandIn, StandInWebContents, type StandInWindow } from '../support/electron-stand-in.js';
import { RecordingBackend } from '../support/recording-backend.js';

const ORIGIN = 'http://127.0.0.1:43210';

function kiosk() {
  const electron = createElectronStandIn();
  const backend = new RecordingBackend();
  const logged: string[] = [];
  const window = openKioskWindow(electron.surface, { url: `${ORIGIN}/`, origin: ORIGIN, backend }, {
    launch: parseLaunchOptions([], {}),
    preloadPath: '/preload.cjs',
    log: (_level, event) => logged.push(event),
    isQuitting: () => true, // lets the test close the window
    giveUp: () => {},
  }) as StandInWindow;
  const contents = window.webContents;
  const fromPage = { sender: contents, senderFrame: { url: `${ORIGIN}/#/desktops` } };
  return { electron, backend, window, contents, fromPage, logged };
}

test('electron ipc: one call handler, on the shared channel', () => {
  const { electron } = kiosk();
  assert.deepEqual(electron.ipcChannels(), [IPC_CALL_CHANNEL]);
});

test('electron ipc: a call from the kiosk page reaches the backend with its arguments', async () => {
  const { electron, backend, fromPage } = kiosk();
  const answer = await electron.invoke(IPC_CALL_CHANNEL, fromPage, 'login', { username: 'alice', password: 'alicepass' });
  assert.deepEqual(answer, { ok: true, value: { echo: 'login' } });
  assert.deepEqual(backend.calls, [{ method: 'login', args: { username: 'alice', password: 'alicepass' } }]);
});

test('electron ipc: calls from anything but the kiosk page are refused before the backend', async () => {
  const { electron, backend, contents, logged } = kiosk();
  const refusals = [
    { sender: contents, senderFrame: { url: 'https://example.com/' } }, // a foreign frame in the kiosk window
    { sender: contents, senderFrame: { url: 'http://127.0.0.1:43211/' } },
    { sender: contents, senderFrame: { url: 'data:text/html,x' } },
    { sender: contents, senderFrame: null }, // the frame navigated away or is gone
    { sender: new StandInWebContents(), senderFrame: { url: `${ORIGIN}/` } }, // right origin, another webContents
  ];
  for (const from of refusals) {
    const answer = await electron.invoke(IPC_CALL_CHANNEL, from, 'state', {});
    assert.deepEqual(answer, { ok: false, error: { kind: 'forbidden', message: 'This request is not allowed.' } }, JSON.stringify(from.senderFrame));
  }
  assert.deepEqual(backend.calls, []);
  assert.equal(logged.filter((e) => e === 'ipc-refused-sender').length, refusals.length);
});

test('electron ipc: once the window is gone, nothing is answered for it', async () => {
  const { electron, backend, window, fromPage } = kiosk();
  assert.equal(window.requestClose(), true);
  const answer = await electron.invoke(IPC_CALL_CHANNEL, fromPage, 'state', {});
  assert.equal((answer as { ok: boolean }).ok, false);
  assert.deepEqual(backend.calls, []);
});

test('electron ipc: unknown and malformed method names are refused', async () => {
  const { electron, backend, fromPage } = kiosk();
  for (const method of ['shutdown', 'constructor', '__proto__', 'toString', '', 42, null, { method: 'state' }]) {
    const answer = await electron.invoke(IPC_CALL_CHANNEL, fromPage, method, {});
    assert.deepEqual(answer, { ok: false, error: { kind: 'bad-request', message: 'The kiosk does not know this request.' } }, String(method));
  }
  assert.deepEqual(backend.calls, []);
});

test('electron ipc: a backend that throws gives the page a message, not the error', async () => {
  const { electron, backend, fromPage, logged } = kiosk();
  backend.throwOnCall = new Error('ENOENT: /var/lib/thinkiosk/settings.json at Settings.read (settings.js:12)');
  const answer = await electron.invoke(IPC_CALL_CHANNEL, fromPage, 'state', {});
  assert.deepEqual(answer, { ok: false, error: { kind: 'internal', message: 'Something went wrong in the kiosk. Please try again.' } });
  assert.ok(logged.includes('backend-threw'));
});

test('electron ipc: backend events reach the kiosk page, and stop with the window', () => {
  const { backend, contents, window } = kiosk();
  const event: KioskEvent = { type: 'session-ended', reason: 'idle' };
  backend.push(event);
  assert.deepEqual(contents.sent, [{ channel: IPC_EVENT_CHANNEL, args: [event] }]);

  // Were the window ever showing something else, it must not hear the kiosk's events.
  void contents.loadURL('chrome-error://chromewebdata/');
  backend.push({ type: 'native-started', sessionId: 's1' });
  assert.equal(contents.sent.length, 1);

  assert.equal(backend.subscribers, 1);
  window.requestClose();
  assert.equal(backend.subscribers, 0, 'unsubscribed when the window closed');
});
