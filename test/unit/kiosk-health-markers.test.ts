/**
 * The kiosk's health markers for the update gate, on real files, read back by the gate's own
 * reader (readHealth): the ready marker with and without a controller, controller-ok once a real
 * HTTP server on 127.0.0.1 answers as a controller (after answering as something else first), an
 * earlier run's markers removed at start, and a directory that cannot be written logged, not fatal.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_PREFIX, PRODUCT } from '../../contract/api.js';
import { ControllerClient } from '../../app/core/controller-client.js';
import { ControllerProbe, HealthMarkers } from '../../app/core/health-markers.js';
import { healthy, readHealth } from '../../app/core/update/health-gate.js';

let work: string;
before(() => { work = mkdtempSync(join(tmpdir(), 'thinkiosk-health-markers-')); });
after(() => rmSync(work, { recursive: true, force: true }));

function freshDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

test('ready without a controller: the gate counts ready alone; the file is the gate\'s format', async () => {
  const dir = freshDir('no-controller');
  const markers = new HealthMarkers(dir, () => undefined, () => new Date('2026-12-06T12:00:00Z'));
  assert.deepEqual(await readHealth(dir), { ready: false, controllerOk: false });
  assert.equal(markers.ready(null), true);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'ready'), 'utf8')), { at: '2026-12-06T12:00:00.000Z', controller: null });
  const health = await readHealth(dir);
  assert.deepEqual(health, { ready: true, controllerOk: null });
  assert.equal(healthy(health), true);
});

test('with a controller: not healthy until it answered; the probe asks again until a real server answers as a controller', async (t) => {
  const dir = freshDir('controller');
  let asked = 0;
  const server: Server = createServer((request, response) => {
    asked++;
    // Twice something that is not a controller yet (a proxy's error page), then the controller.
    if (asked <= 2 || request.url !== `${API_PREFIX}/identity`) {
      response.writeHead(503, { 'content-type': 'text/html' }).end('<h1>starting</h1>');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ product: PRODUCT, apiVersion: 1, version: '0.2.0', name: 'Test site', backend: 'static' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const logs: string[] = [];
  const markers = new HealthMarkers(dir, (level, message) => logs.push(`${level} ${message}`));
  markers.ready(url);
  assert.deepEqual(await readHealth(dir), { ready: true, controllerOk: false });
  assert.equal(healthy(await readHealth(dir)), false, 'ready alone does not count when a controller is configured');

  const probe = new ControllerProbe({ markers, controller: () => url, identify: (address) => new ControllerClient(address, { retries: 0 }).identity(), retryDelaysMs: [20], log: (level, message) => logs.push(`${level} ${message}`) });
  await probe.start();
  assert.equal(asked, 3, 'asked until it answered as a controller, then no more');
  assert.deepEqual(await readHealth(dir), { ready: true, controllerOk: true });
  assert.equal(JSON.parse(readFileSync(join(dir, 'controller-ok'), 'utf8')).controller, url);
  assert.ok(logs.some((line) => /^info health: controller .* not answering yet/.test(line)), logs.join('\n'));
});

test('the probe asks nobody without a controller, and stop() ends a probe whose controller never answers', async () => {
  const dir = freshDir('probe-stop');
  const markers = new HealthMarkers(dir);
  let asked = 0;
  await new ControllerProbe({ markers, controller: () => null, identify: async () => { asked++; } }).start();
  assert.equal(asked, 0);

  const probe = new ControllerProbe({ markers, controller: () => 'http://127.0.0.1:9/', identify: async () => { asked++; throw new Error('refused'); }, retryDelaysMs: [60_000] });
  const running = probe.start();
  while (asked === 0) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 50)); // now waiting for its next try
  probe.stop();
  await running; // resolves although the next try was a minute away
  assert.equal(asked, 1);
  assert.equal(existsSync(join(dir, 'controller-ok')), false);
});

test('a new start removes an earlier run\'s markers', async () => {
  const dir = freshDir('restart');
  const markers = new HealthMarkers(dir);
  markers.ready('https://ctl.example/');
  markers.controllerAnswered('https://ctl.example/');
  assert.equal(healthy(await readHealth(dir)), true);
  new HealthMarkers(dir).clear();
  assert.deepEqual(await readHealth(dir), { ready: false, controllerOk: false });
});

test('a directory that is missing or cannot be written: logged, never thrown', () => {
  const logs: string[] = [];
  const log = (level: string, message: string): void => void logs.push(`${level} ${message}`);
  const missing = new HealthMarkers(join(work, 'not-there'), log);
  assert.equal(missing.ready(null), false);
  assert.equal(missing.controllerAnswered('https://ctl.example/'), false);
  assert.equal(logs.length, 1, 'said once');
  assert.match(logs[0] ?? '', /^info health markers not written: .*not-there does not exist \(not the thinkiosk image\)/);
  assert.equal(existsSync(join(work, 'not-there')), false, 'nothing made');

  // The marker's name taken by a non-empty directory: fails for root too (permissions would not).
  const dir = freshDir('blocked');
  mkdirSync(join(dir, 'ready'));
  writeFileSync(join(dir, 'ready', 'x'), '');
  logs.length = 0;
  assert.equal(new HealthMarkers(dir, log).ready(null), false);
  assert.match(logs[0] ?? '', /^warn health marker ready could not be written in .*blocked .*: .*(EISDIR|ENOTEMPTY|EEXIST)/);
  assert.equal(existsSync(join(dir, `ready.${process.pid}.tmp`)), false, 'no temporary file left');
});
