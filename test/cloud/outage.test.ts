import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROUTES } from '../../contract/routes.js';
import { KeystoneClient, PasswordTokenSource } from '../../controller/desktops/openstack/keystone.js';
import { OpenStackHttp } from '../../controller/desktops/openstack/http.js';
import { cloudService, KEYSTONE, startController } from './harness.js';

const ctl = await startController({}, { timeoutSeconds: 5 });
after(() => ctl.close());

test('[keystone] outage: Keystone stopped → 503 naming the identity service; logins work again once it is back', async () => {
  const token = await ctl.login('alice');
  cloudService('stop-service', 'keystone');
  try {
    const login = await ctl.call(ROUTES.login, { body: { username: 'alice', password: 'alicepass' } });
    assert.equal(login.status, 503);
    assert.equal(login.body.error.kind, 'upstream-unavailable');
    assert.match(login.body.error.message, /identity service \(Keystone\) is not answering/);
    // Nova validates tokens through Keystone: with Keystone gone the list fails cleanly too.
    const list = await ctl.call(ROUTES.desktops, { token });
    assert.ok([502, 503].includes(list.status), `list answered ${list.status}`);
    assert.ok(list.body.error.message.length > 0);
  } finally {
    cloudService('start-service', 'keystone');
  }
  assert.equal((await ctl.call(ROUTES.login, { body: { username: 'alice', password: 'alicepass' } })).status, 201);
  assert.equal((await ctl.call(ROUTES.desktops, { token })).status, 200, 'the old session still works');
});

test('[nova] outage: Nova API stopped → 503 naming the compute service; the shim keeps serving once it returns', async () => {
  const token = await ctl.login('alice');
  cloudService('stop-service', 'nova-api');
  try {
    const list = await ctl.call(ROUTES.desktops, { token });
    assert.equal(list.status, 503);
    assert.match(list.body.error.message, /compute service \(Nova\) is not answering/);
    assert.equal((await ctl.call(ROUTES.identity)).status, 200, 'the shim itself is still up');
  } finally {
    cloudService('start-service', 'nova-api');
  }
  assert.equal((await ctl.call(ROUTES.desktops, { token })).status, 200);
});

test('[keystone] re-auth near expiry: a password token source renews only inside its margin', async () => {
  const keystone = new KeystoneClient(new OpenStackHttp({ timeoutMs: 10_000 }), KEYSTONE, 'public');
  const credentials = { username: 'alice', password: 'alicepass', domain: 'Default', project: 'kiosk' };
  const relaxed = new PasswordTokenSource(keystone, credentials, 300);
  const a = await relaxed.get();
  const b = await relaxed.get();
  assert.equal(a.token, b.token);
  assert.equal(relaxed.logins, 1);
  // A margin longer than Keystone's one-hour tokens means "always near expiry": it re-authenticates.
  const eager = new PasswordTokenSource(keystone, credentials, 7200);
  const c = await eager.get();
  const d = await eager.get();
  assert.notEqual(c.token, d.token);
  assert.equal(eager.logins, 2);
  assert.ok(d.endpoints.compute.endsWith('/v2.1'));
});

/** A throw-away self-signed certificate for 127.0.0.1: paths of the PEM files. */
function selfSignedCert(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'thinkiosk-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
  return { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

test('[keystone] TLS to the cloud: an untrusted certificate is named as such; with openstack.caFile logins work', async () => {
  // Keystone behind a TLS-terminating proxy, as in most real clouds (the test cloud itself is plain HTTP).
  const pem = selfSignedCert();
  const proxy = https.createServer({ cert: readFileSync(pem.cert), key: readFileSync(pem.key) }, (req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port: 5000, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const authUrl = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}/v3`;
  const untrusting = await startController({}, { authUrl });
  const trusting = await startController({}, { authUrl, caFile: pem.cert });
  try {
    const refused = await untrusting.call(ROUTES.login, { body: { username: 'alice', password: 'alicepass' } });
    assert.equal(refused.status, 503);
    assert.match(refused.body.error.message, /does not trust the certificate of the cloud's identity service \(Keystone\)\. Tell your administrator \(controller setting openstack\.caFile\)/);
    const token = await trusting.login('alice');
    assert.equal((await trusting.call(ROUTES.desktops, { token })).status, 200);
  } finally {
    await untrusting.close();
    await trusting.close();
    proxy.closeAllConnections();
    proxy.close();
  }
});

test('[controller] TLS: with a certificate configured the shim serves HTTPS only', async () => {
  const pem = selfSignedCert();
  const secure = await startController({ tls: { certFile: pem.cert, keyFile: pem.key } });
  try {
    const port = new URL(secure.url).port;
    const get = (ca?: Buffer) => new Promise<number>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, path: ROUTES.identity.path, ...(ca ? { ca } : {}) }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
    });
    assert.equal(await get(readFileSync(pem.cert)), 200);
    await assert.rejects(get(), /self[- ]signed/i, 'a client that does not trust the certificate is refused');
    await assert.rejects(fetch(`http://127.0.0.1:${port}${ROUTES.identity.path}`), 'plain HTTP is not served');
  } finally {
    await secure.close();
  }
});
