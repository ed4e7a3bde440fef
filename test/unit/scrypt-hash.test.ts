// The one scrypt hash format (contract/scrypt-hash.ts) as the controller's password hashes and the
// kiosk's admin PIN use it: hashes written before the two shared one module still verify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeScryptHash, NOT_AN_SCRYPT_HASH, parseScryptHash, verifyScryptHash, type ScryptHash } from '../../contract/scrypt-hash.js';
import { verifyPin } from '../../app/core/system/admin-pin.js';
import { parsePasswordHash, verifyPassword, type ParsedHash } from '../../controller/core/password-hash.js';

/** Made by the kiosk's own scrypt code before it moved to contract/ (PIN 2468, a fixed salt). */
const OLD_PIN_HASH = 'scrypt$16384$8$1$a2lvc2stcGluLXNhbHQ=$pD7Owif+DOXz7SZc/DKutypM2oe5j35BqWGaoNSsoYM=';
/** Made by the controller's hash-password before it moved (password "demo"). */
const OLD_PASSWORD_HASH = 'scrypt$16384$8$1$vyUcwXiO6p3yfVBSGEwJIA==$FnQAgfuo6QWR+xwYbs1q14RTk8K2FqlFZMd7N7TdOww=';

test('scrypt hash: hashes already in the field verify, whichever program made them', async () => {
  assert.equal(await verifyPin('2468', OLD_PIN_HASH), true);
  assert.equal(await verifyPin('2469', OLD_PIN_HASH), false);
  assert.equal(await verifyPassword('demo', parsePasswordHash(OLD_PASSWORD_HASH) as ParsedHash), true);
  assert.equal(await verifyPassword('2468', parsePasswordHash(OLD_PIN_HASH) as ParsedHash), true, 'one format: a PIN hash reads as a password hash');
});

test('scrypt hash: made with the default cost, salted, and checked against the right secret only', async () => {
  const text = await makeScryptHash('café');
  assert.match(text, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
  assert.notEqual(await makeScryptHash('café'), text, 'a fresh salt each time');
  const parsed = parseScryptHash(text) as ScryptHash;
  assert.equal(await verifyScryptHash('café', parsed), true);
  assert.equal(await verifyScryptHash('cafe\u0301', parsed), true, 'the same text typed as e + accent');
  assert.equal(await verifyScryptHash('cafe', parsed), false);
});

test('scrypt hash: what is wrong with a value is said, and a memory limit is kept when asked', async () => {
  assert.equal(parseScryptHash('1234'), NOT_AN_SCRYPT_HASH);
  assert.match(parseScryptHash('scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==') as string, /power of two/);
  assert.match(parseScryptHash('scrypt$1024$64$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==') as string, /r or p out of range/);
  assert.match(parseScryptHash('scrypt$1024$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==') as string, /too short/);
  const costly = 'scrypt$1048576$32$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==';
  assert.equal(typeof parseScryptHash(costly), 'object', 'no limit unless one is asked for');
  assert.match(parseScryptHash(costly, { maxMemoryBytes: 256 * 2 ** 20 }) as string, /more than 256 MiB per check/);
});
