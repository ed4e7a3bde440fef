/**
 * The kiosk learns its controller's name when the preset named only the URL. The kiosk starts
 * before the network is up, so the controller is often unreachable at first: the kiosk keeps
 * asking until it answers, then tells the page (which redraws the name), against a real controller
 * (static backend, in-process on loopback) that starts only after the kiosk's first try.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventOf, kioskService, ok } from '../support/kiosk-service.js';
import { startStaticController } from '../support/static-harness.js';

// Port 16159: the controller that comes up late.
const PORT = 16159;
const work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-controller-name-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('[kiosk] a controller unreachable at start is named once it answers, and the page is told', async (t) => {
  const url = `http://127.0.0.1:${PORT}`;
  const k = kioskService({ parentDir: work, preset: { controllerUrl: url } });
  t.after(() => k.service.close());
  await k.service.learnControllerName([100]);
  assert.equal((await ok(k, 'state')).controller?.name, url, 'before the controller answers, the login screen shows its address');
  assert.equal(k.events.length, 0);
  assert.match(k.logs.join('\n'), /not identified yet \(asking again/);

  const ctl = await startStaticController({ workDir: mkdtempSync(path.join(work, 'ctl-')), port: PORT, inventory: 'users: []\ndesktops: []\n' });
  t.after(() => ctl.close());
  await eventOf(k, (e) => e.type === 'settings-changed', 5000);
  assert.equal((await ok(k, 'state')).controller?.name, 'Static test site');
  assert.equal(k.settings.read().controllerName, 'Static test site', 'the name is kept for the next boot');
  assert.equal(k.logs.filter((line) => line.includes('not identified yet')).length, 1, 'one warning, not one per try');
});

test('[kiosk] a closed kiosk stops asking for the controller\'s name', async () => {
  const k = kioskService({ parentDir: work, preset: { controllerUrl: `http://127.0.0.1:${PORT}` } });
  await k.service.learnControllerName([100]);
  await k.service.close();
  const ctl = await startStaticController({ workDir: mkdtempSync(path.join(work, 'ctl-')), port: PORT, inventory: 'users: []\ndesktops: []\n' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(k.settings.read().controllerName, null, 'asked the controller after the kiosk closed');
    assert.equal(k.events.length, 0);
  } finally {
    await ctl.close();
  }
});
