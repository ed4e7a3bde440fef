// The shell's pure rules: launch flags, origin comparison, the renderer watchdog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLaunchOptions } from '../../app/electron/launch-options.js';
import { isAllowedRequest, isRuntimeUrl } from '../../app/electron/origin-policy.js';
import { RendererWatchdog } from '../../app/electron/renderer-watchdog.js';

test('electron launch: kiosk by default; a window with devtools only with --no-kiosk and THINKIOSK_DEV=1', () => {
  assert.deepEqual(parseLaunchOptions(['/opt/thinkiosk/thinkiosk'], {}), { kiosk: true, devTools: false, ignored: null });
  assert.deepEqual(parseLaunchOptions(['/opt/thinkiosk/thinkiosk', '--no-kiosk'], { THINKIOSK_DEV: '1' }), { kiosk: false, devTools: true, ignored: null });
  const alone = parseLaunchOptions(['x', '--no-kiosk'], { THINKIOSK_DEV: '0' });
  assert.equal(alone.kiosk, true);
  assert.equal(alone.devTools, false);
  assert.match(alone.ignored ?? '', /THINKIOSK_DEV=1/);
  assert.equal(parseLaunchOptions(['x'], { THINKIOSK_DEV: '1' }).kiosk, true, 'the variable alone changes nothing');
  assert.equal(parseLaunchOptions(['x', '--no-kiosk', '--kiosk'], { THINKIOSK_DEV: '1' }).kiosk, true, 'an explicit --kiosk wins');
});

test('electron origin policy: compares parsed origins, not string prefixes', () => {
  const origin = 'http://127.0.0.1:8080';
  assert.equal(isRuntimeUrl('http://127.0.0.1:8080/', origin), true);
  assert.equal(isRuntimeUrl('http://127.0.0.1:8080/a/b?c#d', origin), true);
  assert.equal(isRuntimeUrl('HTTP://127.0.0.1:8080/', origin), true, 'scheme case does not matter');
  assert.equal(isRuntimeUrl('http://127.0.0.1:80801/', origin), false);
  assert.equal(isRuntimeUrl('http://127.0.0.1:8080.evil.example/', origin), false);
  assert.equal(isRuntimeUrl('http://127.0.0.1:8080@evil.example/', origin), false, 'userinfo trick');
  assert.equal(isRuntimeUrl('https://127.0.0.1:8080/', origin), false);
  assert.equal(isRuntimeUrl('not a url', origin), false);
  assert.equal(isRuntimeUrl('about:blank', 'null'), false, 'opaque origins never match, even "null"');
  assert.equal(isAllowedRequest('ws://127.0.0.1:8080/relay', origin), true);
  assert.equal(isAllowedRequest('ws://127.0.0.1:8081/relay', origin), false);
  assert.equal(isAllowedRequest('blob:http://127.0.0.1:8080/0b7f', origin), true);
  assert.equal(isAllowedRequest('file:///etc/shadow', origin), false);
  assert.equal(isAllowedRequest('ftp://127.0.0.1:8080/', origin), false);
});

test('electron watchdog: reloads up to the limit within the window, then gives up; old deaths age out', () => {
  let now = 0;
  const watchdog = new RendererWatchdog({ maxReloads: 3, windowMs: 60_000 }, () => now);
  assert.equal(watchdog.onRendererGone(), 'reload');
  now = 10_000;
  assert.equal(watchdog.onRendererGone(), 'reload');
  now = 20_000;
  assert.equal(watchdog.onRendererGone(), 'reload');
  now = 30_000;
  assert.equal(watchdog.onRendererGone(), 'give-up');
  now = 75_000; // the deaths at 0 and 10 s are over a minute old
  assert.equal(watchdog.onRendererGone(), 'reload');
});
