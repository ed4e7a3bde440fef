// Electron: nothing of one person reaches the next. At every session end the kiosk window's browser
// session is cleared and the page loaded afresh; the session lives in memory only; downloads are
// refused. Against the named Electron stand-in (the Electron binary cannot run here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openKioskWindow } from '../../app/electron/kiosk-window.js';
import { parseLaunchOptions } from '../../app/electron/launch-options.js';
import { createElectronStandIn, type HeldData, type StandInWindow } from '../support/electron-stand-in.js';
import { RecordingBackend } from '../support/recording-backend.js';

const ORIGIN = 'http://127.0.0.1:43210';
const PAGE = `${ORIGIN}/`;
const EVERYTHING: HeldData[] = ['cookies', 'localStorage', 'indexedDB', 'serviceWorkers', 'cacheStorage', 'fileSystems', 'shaderCache', 'httpCache', 'authCache', 'hostResolverCache'];

function open() {
  const electron = createElectronStandIn();
  const backend = new RecordingBackend();
  const logged: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  const window = openKioskWindow(electron.surface, { url: PAGE, origin: ORIGIN, backend }, {
    launch: parseLaunchOptions([], {}),
    preloadPath: '/preload.cjs',
    log: (level, event, fields) => logged.push({ level, event, ...(fields ? { fields } : {}) }),
    isQuitting: () => false,
    giveUp: () => undefined,
  }) as StandInWindow;
  return { window, contents: window.webContents, session: window.webContents.session, backend, logged };
}

/** Lets the wipe's promise chain run to its end. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

for (const reason of ['logout', 'idle', 'expired'] as const) {
  test(`electron: when a session ends (${reason}), everything the page held is cleared, then the page starts afresh at login`, async () => {
    const { contents, session, backend, logged } = open();
    for (const kind of EVERYTHING) session.held.add(kind);
    assert.deepEqual(contents.loads, [PAGE]);
    backend.push({ type: 'session-ended', reason });
    await settle();
    await settle();
    assert.deepEqual([...session.held], [], 'nothing of the last person is left');
    assert.deepEqual(session.clearCalls, ['clearData', 'clearStorageData', 'clearCache', 'clearAuthCache', 'clearHostResolverCache']);
    assert.equal(session.flushes, 1);
    assert.deepEqual(contents.loads, [PAGE, PAGE], 'the page is loaded afresh once, after the wipe');
    assert.ok(contents.sent.some((message) => (message.args[0] as { type?: string }).type === 'session-ended'), 'the page still hears that the session ended');
    assert.ok(logged.some((entry) => entry.event === 'session-wiped' && entry.fields?.reason === reason));
  });
}

test('electron: a part of the wipe that fails is logged as an error, the rest is still cleared and the page still starts afresh', async () => {
  const { contents, session, backend, logged } = open();
  for (const kind of EVERYTHING) session.held.add(kind);
  session.failing = 'clearData';
  backend.push({ type: 'session-ended', reason: 'logout' });
  await settle();
  await settle();
  assert.deepEqual([...session.held].sort(), [], 'what clearData covers, the later calls cover too');
  const error = logged.find((entry) => entry.event === 'session-wipe-incomplete');
  assert.equal(error?.level, 'error');
  assert.deepEqual(contents.loads, [PAGE, PAGE]);
});

test('electron: sessions that end back to back get a wipe each, one after the other', async () => {
  const { contents, session, backend } = open();
  backend.push({ type: 'session-ended', reason: 'logout' });
  backend.push({ type: 'session-ended', reason: 'idle' });
  for (let i = 0; i < 6; i++) await settle();
  assert.equal(session.clearCalls.filter((call) => call === 'clearData').length, 2);
  assert.deepEqual(contents.loads, [PAGE, PAGE, PAGE]);
});

test('electron: other events neither wipe nor reload', async () => {
  const { contents, session, backend } = open();
  backend.push({ type: 'native-started', sessionId: 'a1' });
  backend.push({ type: 'native-ended', sessionId: 'a1', outcome: 'ended', message: 'done' });
  await settle();
  assert.deepEqual(session.clearCalls, []);
  assert.deepEqual(contents.loads, [PAGE]);
});

test('electron: the kiosk window\'s browsing data lives in memory only, and downloads are refused', () => {
  const { window, session, logged } = open();
  const partition = window.options.webPreferences?.partition;
  assert.ok(partition, 'a partition of its own');
  assert.doesNotMatch(partition, /^persist:/, 'not written to disk');
  assert.equal(session.download(), true, 'the download is cancelled');
  assert.ok(logged.some((entry) => entry.event === 'download-blocked'));
});
