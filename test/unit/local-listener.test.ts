/**
 * The kiosk page's server socket, listening before the kiosk's runtime exists (app/core/local-server.ts
 * listenLocal): the browser shell starts Chromium on it at once, so what Chromium asks for meanwhile
 * must wait and then be answered, never be refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { listenLocal } from '../../app/core/local-server.js';

test('listenLocal: a request made before the server is served waits, then gets the real answer', async (t) => {
  const listening = await listenLocal(0);
  t.after(() => listening.server.close());
  assert.match(listening.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(listening.url, `${listening.origin}/`);

  let answered = false;
  const response = fetch(`${listening.url}index.html`).then(async (res) => {
    answered = true;
    return { status: res.status, body: await res.text() };
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(answered, false, 'held while nobody serves');

  listening.serve((req, res) => res.end(`served ${req.url}`), (_req, socket) => socket.destroy());
  assert.deepEqual(await response, { status: 200, body: 'served /index.html' });
  // And later requests go straight to the handler.
  assert.equal(await (await fetch(`${listening.url}next`)).text(), 'served /next');
});

test('listenLocal: an upgrade before the server is served is dropped, not held', async (t) => {
  const listening = await listenLocal(0);
  t.after(() => listening.server.close());
  const socket = net.connect(listening.port, '127.0.0.1');
  socket.write(`GET /relay HTTP/1.1\r\nHost: 127.0.0.1:${listening.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // The server still serves what comes next.
  listening.serve((_req, res) => res.end('ok'), (_req, upgraded) => upgraded.destroy());
  const status = await new Promise<number | undefined>((resolve) => http.get(listening.url, (res) => { res.resume(); resolve(res.statusCode); }));
  assert.equal(status, 200);
});
