import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { OpenStackHttp } from '../../controller/desktops/openstack/http.js';
import { OpenStackError } from '../../controller/desktops/openstack/errors.js';

/**
 * MOCK (named as such): a stand-in for uwsgi's http-socket fault. uwsgi resets a kept-alive socket
 * when a POST arrives on it; the real cloud is configured with "Connection: close" so its own python
 * clients survive, which means the fault cannot be provoked there on purpose.
 */
async function uwsgiLikeServer(): Promise<{ url: string; stats: { posts: number; resets: number }; close: () => Promise<void> }> {
  const stats = { posts: 0, resets: 0 };
  const perSocket = new WeakMap<object, number>();
  const server = http.createServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, n);
    if (req.method === 'POST' && n > 1) {
      stats.resets += 1;
      req.socket.resetAndDestroy();
      return;
    }
    if (req.method === 'POST') stats.posts += 1;
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, stats, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

const Ok = z.object({ ok: z.boolean() });

test('OpenStack HTTP: a POST reset on a reused keep-alive socket is retried once on a fresh one', async () => {
  const stand = await uwsgiLikeServer();
  const client = new OpenStackHttp({ timeoutMs: 5000 });
  try {
    await client.request('keystone', `${stand.url}/a`, { schema: Ok }); // opens a kept-alive socket
    const answer = await client.request('keystone', `${stand.url}/b`, { method: 'POST', json: {}, schema: Ok });
    assert.equal(answer.body.ok, true);
    assert.equal(stand.stats.resets, 1, 'the reused socket was reset by the stand-in');
    assert.equal(stand.stats.posts, 1, 'and the POST was done exactly once');
  } finally {
    await stand.close();
  }
});

test('OpenStack HTTP: refused connections, 503s and wrong-shaped answers become typed errors', async () => {
  const client = new OpenStackHttp({ timeoutMs: 3000 });
  const refused = await client.request('nova', 'http://127.0.0.1:1/servers', { schema: Ok }).catch((e: unknown) => e);
  assert.ok(refused instanceof OpenStackError);
  assert.equal(refused.kind, 'unavailable');
  assert.equal(refused.status, 0);

  let calls = 0;
  const server = http.createServer((_req, res) => {
    calls += 1;
    if (calls === 1) res.writeHead(503).end('{"error":{"message":"busy"}}');
    else res.writeHead(200).end('{"servers": "not a list"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  try {
    const error = await client.request('nova', url, { schema: z.object({ servers: z.array(z.unknown()) }) }).catch((e: unknown) => e);
    assert.equal(calls, 2, 'a GET answered 503 is retried');
    assert.ok(error instanceof OpenStackError);
    assert.equal(error.kind, 'invalid-response');
    assert.match(error.serviceMessage, /servers/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
