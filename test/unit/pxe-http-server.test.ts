import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BootHttpServer, resolveRequestPath, type HttpRequestRecord } from '../../pxe/http-server.js';

test('boot HTTP server paths: inside a mount only, longest prefix first; no "..", hidden names, directories or escapes', () => {
  const mounts = [{ prefix: '/', dir: '/srv/netboot/http' }, { prefix: '/clients/', dir: '/run/boot/clients' }];
  assert.equal(resolveRequestPath(mounts, '/amd64/vmlinuz'), '/srv/netboot/http/amd64/vmlinuz');
  assert.equal(resolveRequestPath(mounts, '/clients/52-54-00-00-00-01.conf'), '/run/boot/clients/52-54-00-00-00-01.conf');
  assert.equal(resolveRequestPath(mounts, '/amd64/vmlinuz?x=1'), '/srv/netboot/http/amd64/vmlinuz');
  for (const bad of ['/../etc/passwd', '/amd64/../../x', '/%2e%2e/x', '/.git/config', '/', '/clients/', '/a%00b', '/a\\..\\b', '/%E0%A4%A']) {
    assert.equal(resolveRequestPath(mounts, bad), null, bad);
  }
});

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; length: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, length: res.headers['content-length'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('boot HTTP server: files with their length, HEAD, 404 and 405; every request recorded with client, status and bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pxe-http-'));
  mkdirSync(join(dir, 'amd64'));
  writeFileSync(join(dir, 'amd64', 'initrd.img'), Buffer.alloc(70_000, 1));
  const records: HttpRequestRecord[] = [];
  const server = new BootHttpServer([{ prefix: '/', dir }], (record) => records.push(record));
  const { port } = await server.listen('127.0.0.1', 0);
  try {
    const file = await get(port, '/amd64/initrd.img');
    assert.equal(file.status, 200);
    assert.equal(file.body.length, 70_000);
    assert.equal(file.length, '70000');
    const head = await get(port, '/amd64/initrd.img', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.length, '70000');
    assert.equal(head.body, '');
    assert.equal((await get(port, '/amd64/root.squashfs')).status, 404);
    assert.equal((await get(port, '/amd64')).status, 404, 'no directory listings');
    assert.equal((await get(port, '/amd64/initrd.img', 'POST')).status, 405);
    await new Promise((done) => setTimeout(done, 50));
    const served = records.find((r) => r.path === '/amd64/initrd.img' && r.method === 'GET')!;
    assert.equal(served.status, 200);
    assert.equal(served.bytes, 70_000);
    assert.equal(served.client, '127.0.0.1');
    assert.ok(records.some((r) => r.path === '/amd64/root.squashfs' && r.status === 404));
  } finally {
    await server.close();
  }
  const other = new BootHttpServer([{ prefix: '/', dir }]);
  const first = await other.listen('127.0.0.1', 0);
  await assert.rejects(new BootHttpServer([{ prefix: '/', dir }]).listen('127.0.0.1', first.port), /port \d+ on 127\.0\.0\.1 is already in use/);
  await other.close();
});
