/**
 * The static backend as an administrator meets it: `hash-password-cli` makes the inventory's hashes,
 * and the real controller process refuses a broken inventory with the path of the mistake (no stack
 * trace), or serves a good one.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Identity } from '../../contract/api.js';
import { ROUTES } from '../../contract/routes.js';
import { parsePasswordHash, verifyPassword, type ParsedHash } from '../../controller/core/password-hash.js';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CONTROLLER_PORT = 15916; // this file's share of the test range
const workDir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-static-config-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

function run(script: string, args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(DIST, script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

function writeConfig(name: string, inventory: string): string {
  const inventoryFile = path.join(workDir, `${name}.yaml`);
  writeFileSync(inventoryFile, inventory);
  const config = path.join(workDir, `${name}.json`);
  writeFileSync(config, JSON.stringify({ backend: 'static', listen: { host: '127.0.0.1', port: CONTROLLER_PORT }, static: { inventoryFile } }));
  return config;
}

test('[static] hash-password-cli prints a hash that verifies the password it was given, and only that one', async () => {
  const { code, stdout, stderr } = await run('controller/hash-password-cli.js', [], 'lab password\n');
  assert.equal(code, 0, stderr);
  const parsed = parsePasswordHash(stdout.trim());
  assert.equal(typeof parsed, 'object', `not a hash: ${stdout}`);
  assert.equal(await verifyPassword('lab password', parsed as ParsedHash), true);
  assert.equal(await verifyPassword('lab password\n', parsed as ParsedHash), false);
  const empty = await run('controller/hash-password-cli.js', [], '');
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /empty password; nothing printed/);
});

test('[static] the controller refuses an inventory with a plain password, naming where it is, without a stack trace', async () => {
  const config = writeConfig('plain', `
users:
  - name: alice
    password: alicepass
desktops:
  - id: d1
    name: Desk
    guestOs: { family: linux }
    endpoints: { vnc: { host: 127.0.0.1, port: 5900, pasword: x } }
    users: [alice]
`);
  const { code, stderr } = await run('controller/main.js', ['--config', config]);
  assert.equal(code, 1);
  assert.match(stderr, /invalid desktop inventory in .*plain\.yaml/);
  assert.match(stderr, /users\[0\]\.password \(user "alice"\): is not a password hash made by hash-password-cli.*never store a plain password/);
  assert.match(stderr, /desktops\[0\]\.endpoints\.vnc \(desktop "d1"\): Unrecognized key: "pasword"/);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
});

test('[static] the controller says so when the inventory file is missing or not YAML', async () => {
  const missing = path.join(workDir, 'missing.json');
  writeFileSync(missing, JSON.stringify({ backend: 'static', static: { inventoryFile: path.join(workDir, 'nope.yaml') } }));
  const absent = await run('controller/main.js', ['--config', missing]);
  assert.equal(absent.code, 1);
  assert.match(absent.stderr, /cannot read the desktop inventory .*nope\.yaml \(static\.inventoryFile\)/);
  const broken = await run('controller/main.js', ['--config', writeConfig('broken', 'users: [\n  - name: x\n')]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /broken\.yaml is not valid YAML or JSON/);
});

test('[static] with a good inventory the controller serves, says it is static, and stops on SIGTERM', async () => {
  const hash = (await run('controller/hash-password-cli.js', [], 'pw')).stdout.trim();
  const config = writeConfig('good', `users: [{ name: alice, password: "${hash}" }]\ndesktops: []\n`);
  const child = spawn(process.execPath, [path.join(DIST, 'controller/main.js'), '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => { log += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const deadline = Date.now() + 15_000;
    while (!/"listening"/.test(log) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.match(log, /"event":"listening".*"backend":"static"/);
    const identity = Identity.parse(await (await fetch(`http://127.0.0.1:${CONTROLLER_PORT}${ROUTES.identity.path}`)).json());
    assert.equal(identity.backend, 'static');
    const login = await fetch(`http://127.0.0.1:${CONTROLLER_PORT}${ROUTES.login.path}`, { method: ROUTES.login.method, body: JSON.stringify({ username: 'alice', password: 'pw' }) });
    assert.equal(login.status, 201);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});
