// The compiled preload (dist/app/electron/preload.cjs), run the way Electron runs a sandboxed
// preload, against the named renderer stand-in (the Electron binary cannot run here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL, type KioskEvent } from '../../app/core/kiosk-api.js';
import { BRIDGE_GLOBAL, type ThinkioskBridge } from '../../app/electron/bridge.js';
import { createRendererStandIn, runSandboxedPreload } from '../support/electron-stand-in.js';

// dist/test/unit → dist/app/electron: the file Electron is given, not its TypeScript source.
const PRELOAD = fileURLToPath(new URL('../../app/electron/preload.cjs', import.meta.url));

function loadPreload() {
  const renderer = createRendererStandIn();
  // Only 'electron': a sandboxed preload's require refuses everything else (no relative files,
  // no zod, no node: modules), so the preload must run with this alone.
  runSandboxedPreload(PRELOAD, { electron: renderer.electron });
  const bridge = renderer.exposed.get(BRIDGE_GLOBAL) as ThinkioskBridge;
  return { renderer, bridge };
}

test('electron preload: exposes exactly call and onEvent as window.thinkiosk, and nothing else', () => {
  const { renderer, bridge } = loadPreload();
  assert.deepEqual([...renderer.exposed.keys()], ['thinkiosk']);
  assert.deepEqual(Object.keys(bridge).sort(), ['call', 'onEvent']);
  assert.equal(typeof bridge.call, 'function');
  assert.equal(typeof bridge.onEvent, 'function');
});

test('electron preload: call goes to main on the call channel and returns its answer', async () => {
  const { renderer, bridge } = loadPreload();
  renderer.answerWith((channel, args) => ({ ok: true, value: { channel, method: args[0] } }));
  const answer = await bridge.call('checkController', { url: 'https://controller.example' });
  assert.deepEqual(renderer.invocations, [{ channel: IPC_CALL_CHANNEL, args: ['checkController', { url: 'https://controller.example' }] }]);
  assert.deepEqual(answer, { ok: true, value: { channel: IPC_CALL_CHANNEL, method: 'checkController' } });
});

test('electron preload: onEvent hands the page the event alone, and its return value unsubscribes', () => {
  const { renderer, bridge } = loadPreload();
  const heard: unknown[][] = [];
  const stop = bridge.onEvent((...args: unknown[]) => heard.push(args));
  const event: KioskEvent = { type: 'native-ended', sessionId: 's1', outcome: 'wrong-password', message: 'The password was not accepted.' };
  renderer.sendFromMain(IPC_EVENT_CHANNEL, event);
  assert.deepEqual(heard, [[event]], 'no IpcRendererEvent (and so no ipcRenderer) reaches the page');
  renderer.sendFromMain('some-other-channel', { type: 'session-ended', reason: 'logout' });
  assert.equal(heard.length, 1, 'only the event channel is forwarded');
  stop();
  assert.equal(renderer.listenerCount(IPC_EVENT_CHANNEL), 0);
  renderer.sendFromMain(IPC_EVENT_CHANNEL, event);
  assert.equal(heard.length, 1);
});

test('electron preload: runs under a sandbox require that knows only electron', () => {
  const renderer = createRendererStandIn();
  // The check above would pass vacuously if the stand-in's require accepted anything: prove it refuses.
  assert.throws(() => runSandboxedPreload(PRELOAD, {}), /module not found: electron/);
  assert.doesNotThrow(() => runSandboxedPreload(PRELOAD, { electron: renderer.electron }));
});
