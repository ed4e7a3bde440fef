import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPin, hashPinIfPlain, isPinHash, PinGuard, verifyPin } from '../../app/core/system/admin-pin.js';
import { SystemError } from '../../app/core/system/system-error.js';

test('admin PIN: scrypt hash in the documented format, verified, salted', async () => {
  const hash = await hashPin('4711');
  assert.match(hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
  assert.equal(await verifyPin('4711', hash), true);
  assert.equal(await verifyPin('4712', hash), false);
  assert.equal(await verifyPin('', hash), false);
  assert.notEqual(await hashPin('4711'), hash, 'a fresh salt each time');
});

test('admin PIN: only 4 to 12 digits are accepted as a PIN', async () => {
  for (const bad of ['123', '1234567890123', '12a4', ' 1234', '']) {
    await assert.rejects(hashPin(bad), (e: unknown) => e instanceof SystemError && e.kind === 'invalid-input');
  }
});

test('admin PIN: a damaged or overly costly stored hash is a clear error, not "wrong PIN" forever', async () => {
  await assert.rejects(verifyPin('1234', 'scrypt$16384$8$1$broken'), (e: unknown) => e instanceof SystemError && /damaged/.test(e.message));
  const costly = (await hashPin('1234')).replace('scrypt$16384$8$', 'scrypt$1048576$32$');
  assert.equal(isPinHash(costly), false);
});

test('admin PIN: a plain PIN from the boot partition is replaced by its hash, a hash is kept', async () => {
  const first = await hashPinIfPlain(' 2580\n');
  assert.equal(first.wasPlain, true);
  assert.ok(isPinHash(first.hash));
  assert.equal(await verifyPin('2580', first.hash), true);
  const again = await hashPinIfPlain(first.hash);
  assert.deepEqual(again, { hash: first.hash, wasPlain: false });
  await assert.rejects(hashPinIfPlain('secret'), (e: unknown) => e instanceof SystemError && /4 to 12 digits/.test(e.message));
});

test('PIN guard: locks after 5 wrong PINs, refuses even the right PIN while locked, doubles, clears on success', async () => {
  let now = 1_000_000;
  const guard = new PinGuard({ now: () => now });
  const stored = await hashPin('1357');
  for (let i = 0; i < 4; i++) assert.equal(await guard.check('0000', stored), false);
  assert.equal(guard.retryAfterSeconds(), 0, 'four wrong PINs do not lock');
  assert.equal(await guard.check('0000', stored), false);
  assert.equal(guard.retryAfterSeconds(), 30);
  await assert.rejects(guard.check('1357', stored), (e: unknown) => e instanceof SystemError && e.kind === 'too-many-attempts' && /Try again in 30 seconds/.test(e.message));
  now += 30_000;
  assert.equal(await guard.check('0000', stored), false);
  assert.equal(guard.retryAfterSeconds(), 60, 'the next wrong PIN locks twice as long');
  now += 60_000;
  assert.equal(await guard.check('0000', stored), false);
  assert.equal(guard.retryAfterSeconds(), 120);
  now += 120_000;
  assert.equal(await guard.check('1357', stored), true);
  assert.equal(await guard.check('0000', stored), false);
  assert.equal(guard.retryAfterSeconds(), 0, 'success starts the count again');
});

test('PIN guard: the lock never exceeds its ceiling', async () => {
  let now = 0;
  const guard = new PinGuard({ now: () => now, maxAttempts: 1, lockSeconds: 30, maxLockSeconds: 100 });
  const stored = await hashPin('1111');
  for (let i = 0; i < 4; i++) {
    await guard.check('2222', stored);
    now += guard.retryAfterSeconds() * 1000;
  }
  await guard.check('2222', stored);
  assert.equal(guard.retryAfterSeconds(), 100);
});

test('PIN guard: 40 wrong PINs sent at once — only the first 5 are checked, the rest are refused by the lock', async () => {
  const guard = new PinGuard({ now: () => 5_000_000 });
  const stored = await hashPin('8642');
  const outcomes = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => guard.check(String(1000 + i), stored)));
  const checked = outcomes.filter((o) => o.status === 'fulfilled');
  const refused = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof SystemError && o.reason.kind === 'too-many-attempts');
  assert.equal(checked.length, 5, 'five PINs were compared with the hash');
  assert.ok(checked.every((o) => o.status === 'fulfilled' && o.value === false));
  assert.equal(refused.length, 35);
  assert.equal(guard.retryAfterSeconds(), 30);
  await assert.rejects(guard.check('8642', stored), (e: unknown) => e instanceof SystemError && e.kind === 'too-many-attempts', 'not even the right PIN during the lock');
});
