// The kiosk window's wiring, against the named Electron stand-in (the Electron binary cannot run
// here): window options, navigation and request allow-lists, pop-ups, permissions, shortcuts,
// closing, and what happens when the renderer dies or hangs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openKioskWindow, type KioskWindowOptions } from '../../app/electron/kiosk-window.js';
import { parseLaunchOptions } from '../../app/electron/launch-options.js';
import { RendererWatchdog } from '../../app/electron/renderer-watchdog.js';
import { createElectronStandIn, type StandInWindow } from '../support/electron-stand-in.js';
import { RecordingBackend } from '../support/recording-backend.js';

const ORIGIN = 'http://127.0.0.1:43210';
const PAGE = `${ORIGIN}/`;

function open(overrides: Partial<KioskWindowOptions> = {}) {
  const electron = createElectronStandIn();
  const logged: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  let gaveUp = 0;
  let quitting = false;
  const window = openKioskWindow(electron.surface, { url: PAGE, origin: ORIGIN, backend: new RecordingBackend() }, {
    launch: parseLaunchOptions([], {}),
    preloadPath: '/opt/thinkiosk/resources/app.asar/dist/app/electron/preload.cjs',
    log: (level, event, fields) => logged.push({ level, event, ...(fields ? { fields } : {}) }),
    isQuitting: () => quitting,
    giveUp: () => gaveUp++,
    ...overrides,
  });
  assert.equal(electron.windows.length, 1, 'exactly one window');
  return {
    electron, logged, contents: (window as StandInWindow).webContents, window: window as StandInWindow,
    gaveUp: () => gaveUp, startQuitting: () => { quitting = true; },
  };
}

test('electron window: kiosk options lock the page down', () => {
  const { window, electron } = open();
  const { options } = window;
  assert.equal(options.kiosk, true);
  assert.equal(options.fullscreen, true);
  assert.equal(options.autoHideMenuBar, true);
  const web = options.webPreferences ?? {};
  assert.equal(web.contextIsolation, true);
  assert.equal(web.sandbox, true);
  assert.equal(web.nodeIntegration, false);
  assert.equal(web.nodeIntegrationInSubFrames, false);
  assert.equal(web.webviewTag, false);
  assert.equal(web.devTools, false);
  assert.equal(web.spellcheck, false);
  assert.equal(web.webSecurity, true);
  assert.equal(web.preload, '/opt/thinkiosk/resources/app.asar/dist/app/electron/preload.cjs');
  assert.deepEqual(electron.applicationMenus, [null], 'the default menu (reload, devtools, zoom...) is removed');
  assert.equal(window.menuRemoved, true);
  assert.deepEqual(window.webContents.loads, [PAGE], 'the page is loaded once');
});

test('electron window: the developer window has devtools, the menu and its shortcuts', () => {
  const { window, electron, contents } = open({ launch: parseLaunchOptions(['--no-kiosk'], { THINKIOSK_DEV: '1' }) });
  assert.equal(window.options.kiosk, false);
  assert.equal(window.options.fullscreen, false);
  assert.equal(window.options.webPreferences?.devTools, true);
  assert.equal(window.options.webPreferences?.sandbox, true, 'the sandbox stays on for developers too');
  assert.deepEqual(electron.applicationMenus, []);
  assert.equal(contents.pressKey({ key: 'F12' }), false);
  // The allow-lists do not depend on the mode.
  assert.equal(contents.navigate('https://example.com/'), true);
});

test('electron window: navigation stays on the kiosk origin', () => {
  const { contents, logged } = open();
  assert.equal(contents.navigate(`${ORIGIN}/#/desktops`), false, 'same origin is allowed');
  assert.equal(contents.navigate(`${ORIGIN}/admin?tab=network`), false);
  for (const foreign of [
    'https://example.com/',
    'http://127.0.0.1:43211/', // another port on the same host is another local service
    'http://127.0.0.1:43210.evil.example/',
    'http://localhost:43210/',
    'file:///etc/passwd',
    'data:text/html,<script>alert(1)</script>',
    'javascript:alert(1)',
    'chrome://gpu',
  ]) {
    assert.equal(contents.navigate(foreign), true, `navigation to ${foreign} is prevented`);
  }
  assert.equal(contents.redirect('https://example.com/login'), true, 'a redirect away is prevented');
  assert.equal(contents.redirect(`${ORIGIN}/login`), false, 'a redirect within the origin goes ahead');
  assert.equal(contents.getURL(), `${ORIGIN}/admin?tab=network`);
  assert.ok(logged.some((l) => l.event === 'navigation-blocked' && l.fields?.url === 'https://example.com/'));
});

test('electron window: window.open is denied, even for the kiosk origin', () => {
  const { contents } = open();
  assert.deepEqual(contents.openWindow('https://example.com/'), { action: 'deny' });
  assert.deepEqual(contents.openWindow(`${ORIGIN}/help`), { action: 'deny' });
});

test('electron window: the renderer may fetch only from the kiosk origin', async () => {
  const { contents } = open();
  const { session } = contents;
  assert.equal(await session.request(`${ORIGIN}/vendor/novnc/core/rfb.js`, 'script'), true);
  assert.equal(await session.request(`ws://127.0.0.1:43210/relay/abc`, 'webSocket'), true, 'the console relay websocket');
  assert.equal(await session.request('data:image/png;base64,AAAA', 'image'), true);
  assert.equal(await session.request('https://fonts.example.com/a.woff2', 'font'), false);
  assert.equal(await session.request('ws://10.0.0.5:6080/websockify', 'webSocket'), false, 'no websocket straight to a cloud console');
  assert.equal(await session.request('http://127.0.0.1:8480/v1/desktops', 'xhr'), false, 'not even another local port');
  assert.equal(await session.request('wss://127.0.0.1:43210/relay', 'webSocket'), false, 'wss is a different origin from http');
});

test('electron window: permissions are denied except full screen and clipboard write, for the kiosk origin only', async () => {
  const { contents } = open();
  const { session } = contents;
  assert.equal(await session.requestPermission('fullscreen', `${ORIGIN}/`), true);
  assert.equal(await session.requestPermission('clipboard-sanitized-write', `${ORIGIN}/admin`), true);
  for (const permission of ['clipboard-read', 'media', 'display-capture', 'notifications', 'geolocation', 'openExternal', 'keyboardLock', 'pointerLock', 'hid', 'usb', 'serial', 'midi'] as const) {
    assert.equal(await session.requestPermission(permission, `${ORIGIN}/`), false, `${permission} denied`);
    assert.equal(session.checkPermission(permission, ORIGIN), false, `${permission} check denied`);
  }
  assert.equal(await session.requestPermission('fullscreen', 'https://example.com/'), false, 'not for a foreign origin');
  assert.equal(session.checkPermission('fullscreen', ORIGIN), true);
  assert.equal(session.checkPermission('clipboard-sanitized-write', 'https://example.com'), false);
  assert.equal(session.checkPermission('fullscreen', ''), false, 'an unknown origin gets nothing');
  assert.equal(session.devicePermissionHandler?.({}), false, 'no USB/HID/serial device for the page');
});

test('electron window: kiosk-escaping shortcuts are kept from the page, ordinary keys are not', () => {
  const { contents } = open();
  const blocked = [
    { key: 'F12' }, { key: 'F5' }, { key: 'F11' },
    { key: 'I', code: 'KeyI', control: true, shift: true }, { key: 'J', code: 'KeyJ', control: true, shift: true },
    { key: 'r', code: 'KeyR', control: true }, { key: 'R', code: 'KeyR', control: true, shift: true },
    { key: 'w', code: 'KeyW', control: true }, { key: 'q', code: 'KeyQ', control: true }, { key: 'm', code: 'KeyM', control: true },
    { key: 'F4', alt: true }, { key: 'F4', control: true }, { key: 'ArrowLeft', alt: true },
    { key: '=', code: 'Equal', control: true }, { key: '+', code: 'Equal', control: true, shift: true },
    { key: '-', code: 'Minus', control: true }, { key: '0', code: 'Digit0', control: true }, { key: '+', code: 'NumpadAdd', control: true },
  ];
  for (const keys of blocked) assert.equal(contents.pressKey(keys), true, `${JSON.stringify(keys)} is blocked`);
  const passed = [
    { key: 'Escape' }, { key: 'Tab' }, { key: 'a' }, { key: 'F1' },
    { key: 'c', code: 'KeyC', control: true }, { key: 'v', code: 'KeyV', control: true }, { key: 'z', code: 'KeyZ', control: true },
    { key: 'C', code: 'KeyC', control: true, shift: true }, // copy in a remote Linux terminal
    { key: '}', code: 'Digit0', control: true, alt: true }, // AltGr+0 on a German keyboard
    { key: 'Delete', control: true, alt: true },
  ];
  for (const keys of passed) assert.equal(contents.pressKey(keys), false, `${JSON.stringify(keys)} reaches the page`);
});

test('electron window: closing is refused until the app quits', () => {
  const { window, startQuitting } = open();
  assert.equal(window.requestClose(), false);
  assert.equal(window.isDestroyed(), false);
  startQuitting();
  assert.equal(window.requestClose(), true);
});

test('electron window: a dead renderer is reloaded on the kiosk page; a hung one is killed first', () => {
  const { contents, logged, gaveUp } = open();
  contents.navigate(`${ORIGIN}/#/session/1`);
  contents.rendererGone({ reason: 'crashed', exitCode: 139 });
  assert.deepEqual(contents.loads, [PAGE, PAGE], 'reloaded on the start page');
  assert.ok(logged.some((l) => l.level === 'error' && l.event === 'renderer-gone' && l.fields?.reason === 'crashed'));

  contents.becomeUnresponsive();
  assert.equal(contents.crashRequests, 1, 'the hung renderer is killed');
  assert.deepEqual(contents.loads, [PAGE, PAGE, PAGE], 'and the page loads in a fresh one');
  assert.equal(gaveUp(), 0);
});

test('electron window: a renderer that keeps dying ends the app, for its service to restart it', () => {
  let now = 0;
  const { contents, gaveUp } = open({ watchdog: new RendererWatchdog({ maxReloads: 2, windowMs: 60_000 }, () => now) });
  contents.rendererGone({ reason: 'oom', exitCode: 0 });
  now += 1000;
  contents.rendererGone({ reason: 'oom', exitCode: 0 });
  assert.equal(gaveUp(), 0);
  now += 1000;
  contents.rendererGone({ reason: 'oom', exitCode: 0 });
  assert.equal(gaveUp(), 1);
  assert.equal(contents.loads.length, 3, 'initial load and two reloads, no third');
});

test('electron window: a renderer exit while quitting is not a crash', () => {
  const { contents, startQuitting, logged } = open();
  startQuitting();
  contents.rendererGone({ reason: 'clean-exit', exitCode: 0 });
  assert.deepEqual(contents.loads, [PAGE]);
  assert.ok(!logged.some((l) => l.event === 'renderer-gone'));
});
