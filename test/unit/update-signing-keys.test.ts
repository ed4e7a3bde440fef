/**
 * The build machine's signing key (made once, private, never replaced) and the public keys a kiosk
 * trusts (each file named by its key's id).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { keyIdOf } from '../../contract/update-bundle.js';
import { createKeyFile, loadOrCreateSigningKey, loadTrustedKeys, publicKeyPem } from '../../app/core/update/signing-keys.js';

const run = promisify(execFile);

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tk-update-keys-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('signing key: made once (0600 in a 0700 directory), then the same key every time', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'keys', 'update-signing.pem');
  const made = loadOrCreateSigningKey(file);
  assert.equal(made.created, true);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'keys')).mode & 0o777, 0o700);
  assert.match(readFileSync(file, 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
  const again = loadOrCreateSigningKey(file);
  assert.equal(again.created, false);
  assert.equal(again.keyId, made.keyId);
  assert.match(made.keyId, /^[0-9a-f]{16}$/);
  assert.doesNotMatch(publicKeyPem(made.privateKey), /PRIVATE/);
});

test('signing key: two builds that start together share one key (the one that lost the race takes the winner\'s, whole)', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'keys', 'update-signing.pem');
  // The race, step by step: this process found no key, another made one meanwhile.
  loadOrCreateSigningKey(file);
  const lost = createKeyFile(file);
  assert.equal(lost.created, false, 'the key another build made is never replaced');
  assert.equal(lost.pem, readFileSync(file, 'utf8'));
  assert.deepEqual(readdirSync(join(dir, 'keys')), ['update-signing.pem'], 'no draft is left behind');
  // And for real: the build's own command, several at once on an empty directory.
  const racers = join(dir, 'race', 'update-signing.pem');
  const cli = fileURLToPath(new URL('../../app/core/update/bundle-cli.js', import.meta.url));
  const answers = await Promise.all(Array.from({ length: 6 }, () => run(process.execPath, [cli, 'key', '--key', racers])));
  const ids = new Set(answers.map((answer) => answer.stdout.split(' ')[0]));
  assert.equal(ids.size, 1, `one key for all: ${answers.map((answer) => answer.stdout.trim()).join(', ')}`);
  assert.equal(answers.filter((answer) => answer.stdout.trim().endsWith(' created')).length, 1, 'exactly one of them made it');
});

test('signing key: a key of another kind or a file that is no key is a clear error', (t) => {
  const dir = tempDir(t);
  const rsa = join(dir, 'rsa.pem');
  writeFileSync(rsa, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  assert.throws(() => loadOrCreateSigningKey(rsa), /is a rsa key; update bundles are signed with Ed25519 keys/);
  const junk = join(dir, 'junk.pem');
  writeFileSync(junk, 'not a key\n');
  assert.throws(() => loadOrCreateSigningKey(junk), /is not a PEM private key/);
});

test('trusted keys: every <key id>.pub of the directory; a misnamed file is refused; no directory is no key', (t) => {
  const dir = tempDir(t);
  const keys = join(dir, 'update-keys');
  mkdirSync(keys);
  const a = generateKeyPairSync('ed25519').publicKey;
  const b = generateKeyPairSync('ed25519').publicKey;
  writeFileSync(join(keys, `${keyIdOf(a)}.pub`), publicKeyPem(a));
  writeFileSync(join(keys, `${keyIdOf(b)}.pub`), publicKeyPem(b));
  writeFileSync(join(keys, 'README'), 'not a key');
  assert.deepEqual([...loadTrustedKeys(keys).keys()].sort(), [keyIdOf(a), keyIdOf(b)].sort());
  writeFileSync(join(keys, 'other.pub'), publicKeyPem(a));
  assert.throws(() => loadTrustedKeys(keys), new RegExp(`holds the key ${keyIdOf(a)}: name it ${keyIdOf(a)}\\.pub`));
  assert.equal(loadTrustedKeys(join(dir, 'missing')).size, 0);
});
