/**
 * Controller diagnostics against real local servers: HTTPS with a self-signed certificate (untrusted,
 * then trusted through caFile), an expired certificate from a test CA, a certificate for another
 * name, plain HTTP where TLS is expected, a web server that is no controller, a server whose clock
 * is off, a closed port and a name that cannot resolve (.invalid, RFC 2606). Ports 16510-16519.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CHECK, runDiagnostics, type DiagnosticCheck } from '../../app/core/system/diagnostics.js';
import { ROUTES } from '../../contract/routes.js';

const run = promisify(execFile);
const PORT = { selfSigned: 16510, expired: 16511, otherName: 16512, skewedClock: 16513, notController: 16514, plainHttp: 16515, closed: 16516 };
const IDENTITY = { product: 'thinkiosk-controller', apiVersion: 1, version: '0.1.0', name: 'Test controller', backend: 'static' };
const HOURS = 3600_000;

let dir = '';
const servers: Server[] = [];

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** A self-signed certificate for `san` (e.g. "DNS:localhost,IP:127.0.0.1"); returns [cert, key] paths. */
async function selfSigned(name: string, san: string): Promise<[string, string]> {
  await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`);
  return [join(dir, `${name}.pem`), join(dir, `${name}.key`)];
}

/** A CA and a certificate it issued for 127.0.0.1 that expired in 2020 (openssl ca can back-date). */
async function expiredFromCa(): Promise<{ ca: string; cert: string; key: string }> {
  await writeFile(join(dir, 'ca.cnf'), '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n');
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), '01\n');
  await openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=Thinkiosk Test CA');
  await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'old.key', '-out', 'old.csr', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1');
  await openssl('ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', 'old.csr', '-out', 'old.pem', '-startdate', '20200101000000Z', '-enddate', '20200201000000Z');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'old.pem'), key: join(dir, 'old.key') };
}

function identityHandler(date?: () => Date) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (date) res.setHeader('Date', date().toUTCString());
    if (req.url === ROUTES.identity.path) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(IDENTITY));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"kind":"not-found","message":"no"}}');
    }
  };
}

async function listen(server: Server, port: number): Promise<void> {
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

let selfPem = '';
let otherPem = '';
let testCa = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'thinkiosk-diag-'));
  const [cert, key] = await selfSigned('localhost', 'DNS:localhost,IP:127.0.0.1');
  selfPem = cert;
  const [other, otherKey] = await selfSigned('other.example', 'DNS:other.example');
  otherPem = other;
  const expired = await expiredFromCa();
  testCa = expired.ca;
  const tlsOf = async (c: string, k: string) => ({ cert: await readFile(c), key: await readFile(k) });

  await listen(createHttpsServer(await tlsOf(cert, key), identityHandler()), PORT.selfSigned);
  // The expired server's clock says January 2020: as if the kiosk's clock ran years ahead.
  await listen(createHttpsServer(await tlsOf(expired.cert, expired.key), identityHandler(() => new Date('2020-01-15T12:00:00Z'))), PORT.expired);
  await listen(createHttpsServer(await tlsOf(other, otherKey), identityHandler()), PORT.otherName);
  await listen(createHttpServer(identityHandler(() => new Date(Date.now() + 3 * HOURS + 5 * 60_000 + 30_000))), PORT.skewedClock);
  await listen(createHttpServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>It works!</body></html>')), PORT.notController);
  await listen(createHttpServer(identityHandler()), PORT.plainHttp);
});

after(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  for (const s of servers) s.closeAllConnections();
  await rm(dir, { recursive: true, force: true });
});

function byName(checks: DiagnosticCheck[]): Record<string, DiagnosticCheck> {
  return Object.fromEntries(checks.map((c) => [c.name, c]));
}

test('diagnostics: self-signed controller certificate is reported untrusted, yet the controller and clock are still checked', async () => {
  const checks = byName(await runDiagnostics({ controllerUrl: `https://localhost:${PORT.selfSigned}` }));
  assert.equal(checks[CHECK.dns]!.ok, true);
  assert.match(checks[CHECK.dns]!.detail, /^localhost is .*127\.0\.0\.1/);
  assert.equal(checks[CHECK.tcp]!.ok, true);
  assert.match(checks[CHECK.tcp]!.detail, new RegExp(`accepts connections on port ${PORT.selfSigned}`));
  assert.equal(checks[CHECK.tls]!.ok, false);
  assert.match(checks[CHECK.tls]!.detail, /^Not trusted: the certificate is self-signed\. Issued to localhost, 127\.0\.0\.1 by “localhost”.*caFile/);
  assert.equal(checks[CHECK.controller]!.ok, true);
  assert.equal(checks[CHECK.controller]!.detail, '“Test controller”, thinkiosk controller 0.1.0 (static).');
  assert.equal(checks[CHECK.clock]!.ok, true);
});

test('diagnostics: with the controller CA given as caFile the certificate is trusted', async () => {
  const checks = byName(await runDiagnostics({ controllerUrl: `https://127.0.0.1:${PORT.selfSigned}/`, caFile: selfPem }));
  assert.match(checks[CHECK.dns]!.detail, /Not needed: 127\.0\.0\.1 is an IP address/);
  assert.equal(checks[CHECK.tls]!.ok, true, checks[CHECK.tls]!.detail);
  assert.match(checks[CHECK.tls]!.detail, /^Trusted\. Issued to localhost, 127\.0\.0\.1 by “localhost”, valid \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d\./);
  assert.ok(Object.values(checks).every((c) => c.ok), JSON.stringify(checks));
});

test('diagnostics: an expired certificate, and a kiosk clock far from the controller\'s, are both named', async () => {
  const checks = byName(await runDiagnostics({ controllerUrl: `https://127.0.0.1:${PORT.expired}`, caFile: testCa }));
  assert.equal(checks[CHECK.tls]!.ok, false);
  assert.match(checks[CHECK.tls]!.detail, /^The certificate expired on 2020-02-01\. Issued to 127\.0\.0\.1 by “Thinkiosk Test CA”.*clock is wrong/);
  assert.equal(checks[CHECK.clock]!.ok, false);
  assert.match(checks[CHECK.clock]!.detail, /clock is \d+ (years?|days?) .*ahead of the controller's .*controller 2020-01-15T12:00:00\.000Z.*time server \(NTP\)/);
});

test('diagnostics: a trusted certificate for another name', async () => {
  const checks = byName(await runDiagnostics({ controllerUrl: `https://127.0.0.1:${PORT.otherName}`, caFile: otherPem }));
  assert.equal(checks[CHECK.tls]!.ok, false);
  assert.match(checks[CHECK.tls]!.detail, /^The certificate is for other\.example, not for 127\.0\.0\.1\./);
});

test('diagnostics: http:// works but says it is unencrypted; a clock 3 hours off is reported with what to do', async () => {
  const checks = byName(await runDiagnostics({ controllerUrl: `http://127.0.0.1:${PORT.skewedClock}` }));
  assert.equal(checks[CHECK.tls]!.ok, true);
  assert.match(checks[CHECK.tls]!.detail, /^Not used: .*unencrypted/);
  assert.equal(checks[CHECK.controller]!.ok, true);
  assert.equal(checks[CHECK.clock]!.ok, false);
  assert.match(checks[CHECK.clock]!.detail, /^This kiosk's clock is 3 hours 5 minutes behind the controller's/);
});

test('diagnostics: a web server that is not a controller; plain HTTP where https:// was given', async () => {
  const web = byName(await runDiagnostics({ controllerUrl: `http://127.0.0.1:${PORT.notController}/portal` }));
  assert.equal(web[CHECK.controller]!.ok, false);
  assert.match(web[CHECK.controller]!.detail, /answers, but not as a thinkiosk controller \(GET \/portal\/v1\/identity gave HTTP 404\)/);

  const plain = byName(await runDiagnostics({ controllerUrl: `https://127.0.0.1:${PORT.plainHttp}` }));
  assert.equal(plain[CHECK.tls]!.ok, false);
  assert.match(plain[CHECK.tls]!.detail, /does not speak TLS on port 16515.*http:\/\//);
});

test('diagnostics: a closed port stops at the connection, and says so for the later checks', async () => {
  const checks = await runDiagnostics({ controllerUrl: `https://127.0.0.1:${PORT.closed}` });
  const named = byName(checks);
  assert.equal(named[CHECK.tcp]!.ok, false);
  assert.match(named[CHECK.tcp]!.detail, /refused\)\. Is the controller running/);
  for (const name of [CHECK.tls, CHECK.controller, CHECK.clock]) assert.match(named[name]!.detail, /^Not checked: no connection/);
});

test('diagnostics: a name that does not resolve (.invalid)', async () => {
  const checks = byName(await runDiagnostics({ controllerUrl: 'https://controller.thinkiosk.invalid', timeoutMs: 8000 }));
  assert.equal(checks[CHECK.dns]!.ok, false);
  assert.match(checks[CHECK.dns]!.detail, /controller\.thinkiosk\.invalid (does not exist in DNS|.*No DNS server answered)|No DNS server answered for controller\.thinkiosk\.invalid/);
  assert.match(checks[CHECK.tcp]!.detail, /^Not checked: the name could not be looked up/);
});

test('diagnostics: an address that is not one', async () => {
  const checks = byName(await runDiagnostics({ controllerUrl: 'ftp://files.example' }));
  assert.equal(checks[CHECK.address]!.ok, false);
  assert.match(checks[CHECK.address]!.detail, /must start with https:\/\//);
});

test('diagnostics: the link check reads this host\'s real interfaces', async () => {
  const [link] = await runDiagnostics({ controllerUrl: 'ftp://x' });
  const names = (await readdir('/sys/class/net')).filter((n) => n !== 'lo');
  assert.equal(link!.name, CHECK.link);
  for (const name of names) assert.ok(link!.detail.includes(name), `${name} in ${link!.detail}`);
});
