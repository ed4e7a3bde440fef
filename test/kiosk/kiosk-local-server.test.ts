/**
 * Nothing a local program sends the kiosk's local server ends the kiosk. Any program on the machine
 * can connect to 127.0.0.1, and `POST /rpc/%E0` used to kill the kiosk process (a URI error thrown
 * outside any handler). Here the real kiosk process (the browser shell's Node side, as the
 * appliance runs it) gets, byte for byte over raw TCP: bad percent-escapes, bad and huge bodies,
 * wrong and missing Host headers, odd methods and request targets, malformed and oversized
 * headers, request smuggling, HTTP/2 and binary garbage, garbage websocket upgrades, connections
 * reset mid-request and mid-stream, and half-sent requests left hanging. After each, and at the
 * end, the process is alive and still serves the page and answers the page's calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startKiosk, type KioskProcess } from '../support/kiosk.js';

interface Raw { status: number | null; closed: boolean; text: string }

/** Sends `data` on a fresh connection; resolves with the first status line's code once the server closes or `waitMs` passes. */
function raw(port: number, data: string | Buffer, waitMs = 3000): Promise<Raw> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : null, closed, text });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(data);
  });
}

async function stillServes(kiosk: KioskProcess, after: string): Promise<void> {
  assert.ok(kiosk.alive(), `the kiosk process ended after ${after}:\n${kiosk.output().slice(-2000)}`);
  const origin = new URL(kiosk.url).origin;
  const page = await fetch(`${origin}/`);
  assert.equal(page.status, 200, `the page after ${after}`);
  assert.match(await page.text(), /<title>thinkiosk<\/title>/);
  const key = new URLSearchParams(new URL(kiosk.url).hash.slice(1)).get('key')!;
  const state = await fetch(`${origin}/rpc/state`, { method: 'POST', headers: { 'x-thinkiosk-key': key, 'content-type': 'application/json' }, body: '{}' });
  assert.equal(state.status, 200, `a call after ${after}`);
  assert.equal(((await state.json()) as { ok: boolean }).ok, true);
}

test('[kiosk] no request a local program sends ends the kiosk: it keeps serving the page and its calls', { timeout: 240_000 }, async (t) => {
  const kiosk = await startKiosk();
  t.after(() => kiosk.stop());
  const { port } = new URL(kiosk.url);
  const key = new URLSearchParams(new URL(kiosk.url).hash.slice(1)).get('key')!;
  const host = `Host: 127.0.0.1:${port}`;
  const post = (path: string, body: string, headers = '') =>
    `POST ${path} HTTP/1.1\r\n${host}\r\nX-Thinkiosk-Key: ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${body}`;
  const get = (path: string, headers = '') => `GET ${path} HTTP/1.1\r\n${host}\r\n${headers}Connection: close\r\n\r\n`;

  // [what it is, the bytes, the statuses a sane server may answer with (null: it closes without one)]
  const cases: [string, string | Buffer, (number | null)[]][] = [
    ['a call named with a broken percent-escape (POST /rpc/%E0)', post('/rpc/%E0', '{}'), [200, 400, 404]],
    ['a call named with a NUL and a slash', post('/rpc/state%00%2F..', '{}'), [200, 400, 404]],
    ['a call whose body is not JSON', post('/rpc/state', '{"not json'), [400]],
    ['a call whose body is JSON of the wrong shape', post('/rpc/login', '[1,2,3]'), [200]],
    ['a call whose body is 5 MB', post('/rpc/state', `"${'x'.repeat(5 << 20)}"`), [413, null]],
    ['a call that says more body is coming than comes', `POST /rpc/state HTTP/1.1\r\n${host}\r\nX-Thinkiosk-Key: ${key}\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{}`, [400, 408, null]],
    ['a bootstrap with a forged token', `POST /bootstrap HTTP/1.1\r\n${host}\r\nX-Thinkiosk-Bootstrap: forged\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, [403]],
    ['a page path with a broken percent-escape', get('/%E0%A4%A'), [404, 400]],
    ['a page path climbing out with encoded slashes', get('/..%2f..%2f..%2fetc%2fpasswd'), [404, 400]],
    ['the event stream with a wrong key', get('/events?key=%ZZ'), [403]],
    ['another host name (DNS rebinding)', `GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`, [421]],
    ['no host name at all (HTTP/1.0)', 'GET / HTTP/1.0\r\n\r\n', [421, 400]],
    ['an absolute request target that is no URL', `GET http://[::1 HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`, [400]],
    ['a method nobody knows', `FROB / HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`, [400, 405, null]],
    ['DELETE, OPTIONS *, TRACE and CONNECT', `DELETE /rpc/state HTTP/1.1\r\n${host}\r\n\r\nOPTIONS * HTTP/1.1\r\n${host}\r\n\r\nTRACE / HTTP/1.1\r\n${host}\r\n\r\nCONNECT 127.0.0.1:22 HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`, [403, 405, 400]],
    ['a 100 kB header', `GET / HTTP/1.1\r\n${host}\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`, [431, 400, null]],
    ['two thousand headers', `GET / HTTP/1.1\r\n${host}\r\n${Array.from({ length: 2000 }, (_, i) => `X-${i}: y\r\n`).join('')}\r\n`, [200, 431, 400, null]],
    ['a header line with no colon', `GET / HTTP/1.1\r\n${host}\r\nnonsense\r\n\r\n`, [400]],
    ['request smuggling: Content-Length and chunked', `POST /rpc/state HTTP/1.1\r\n${host}\r\nX-Thinkiosk-Key: ${key}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [400]],
    ['a chunked body with a bad chunk size', `POST /rpc/state HTTP/1.1\r\n${host}\r\nX-Thinkiosk-Key: ${key}\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n`, [400]],
    ['the HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', [400, 505, null]],
    ['binary garbage', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)), [400, null]],
    ['a websocket upgrade to a made-up relay path', get('/relay/made-up', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'), [403, 404]],
    ['a websocket upgrade without its key', get('/relay/x', 'Upgrade: websocket\r\nConnection: Upgrade\r\n'), [400, 403, 404]],
    ['an upgrade to something else, to the page', get('/', 'Upgrade: h2c\r\nConnection: Upgrade\r\n'), [404, 200]],
    ['an upgrade with another host name', `GET /relay/x HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`, [404]],
  ];
  for (const [what, data, allowed] of cases) {
    const answer = await raw(Number(port), data);
    assert.ok(allowed.includes(answer.status), `${what}: answered ${answer.status} (${answer.text.slice(0, 80).replace(/\r\n/g, ' | ')}), expected one of ${allowed.join(', ')}`);
    await stillServes(kiosk, what);
  }

  // Connections that break off: mid-request, mid-upgrade, and in the middle of the event stream.
  for (const data of [post('/rpc/state', '{"a":1}').slice(0, 60), get('/relay/x', 'Upgrade: websocket\r\nConnection: Upgrade\r\n').slice(0, 50), get(`/events?key=${key}`)]) {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(data);
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.resetAndDestroy();
  }
  await stillServes(kiosk, 'connections reset mid-request, mid-upgrade and mid-stream');

  // Slowloris: many requests whose heads never finish. The page still answers meanwhile, and the
  // server lets go of them after its header time-out (10 s) instead of keeping them for good.
  const hanging = Array.from({ length: 60 }, () => {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`GET / HTTP/1.1\r\n${host}\r\nX-Slow: `);
    const drip = setInterval(() => socket.writable && socket.write('a'), 1000);
    const h = { socket, drip, closedAt: 0, answer: '', closed: Promise.resolve(0) };
    socket.on('data', (chunk) => (h.answer += chunk.toString('latin1')));
    h.closed = new Promise<number>((resolve) => socket.on('close', () => resolve((h.closedAt = Date.now()))));
    return h;
  });
  const t0 = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await stillServes(kiosk, 'sixty half-sent requests');
  const closedAt = await Promise.race([
    Promise.all(hanging.map((h) => h.closed)),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), 60_000)),
  ]);
  for (const h of hanging) {
    clearInterval(h.drip);
    h.socket.destroy();
  }
  const open = hanging.filter((h) => !h.closedAt);
  assert.ok(closedAt, `the server closed the half-sent requests; ${open.length} still open after 60 s, answered: ${JSON.stringify([...new Set(open.map((h) => h.answer.slice(0, 40)))])}`);
  const heldFor = Math.max(...closedAt.map((at) => at - t0));
  assert.ok(heldFor < 45_000, `half-sent requests were held for ${heldFor} ms`);
  await stillServes(kiosk, 'the half-sent requests timed out');
  assert.doesNotMatch(kiosk.output(), /Uncaught|URIError|TypeError|at .*\(.*\.js:\d+:\d+\)/, 'no stack trace in the kiosk\'s log');
});
