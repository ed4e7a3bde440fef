import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginGuard } from '../../controller/login-guard.js';

test('login guard: locks a user after the limit, doubles the lock, success clears it', () => {
  let now = 1_000_000;
  const guard = new LoginGuard({ maxFailuresPerUser: 3, maxFailuresPerAddress: 100, windowSeconds: 600, lockoutSeconds: 10 }, () => now);
  for (let i = 0; i < 2; i++) guard.recordFailure('10.0.0.1', 'Alice');
  assert.equal(guard.retryAfter('10.0.0.1', 'alice'), 0);
  guard.recordFailure('10.0.0.1', 'alice');
  assert.equal(guard.retryAfter('10.0.0.1', 'ALICE'), 10, 'user names compare case-insensitively');
  assert.equal(guard.retryAfter('10.0.0.2', 'alice'), 0, 'another kiosk is not locked out');
  assert.equal(guard.retryAfter('10.0.0.1', 'bob'), 0, 'another user is not locked out');
  now += 11_000;
  guard.recordFailure('10.0.0.1', 'alice');
  assert.equal(guard.retryAfter('10.0.0.1', 'alice'), 20);
  guard.recordSuccess('10.0.0.1', 'alice');
  assert.equal(guard.retryAfter('10.0.0.1', 'alice'), 0);
});

test('login guard: an address spraying many user names is locked as a whole', () => {
  const guard = new LoginGuard({ maxFailuresPerUser: 5, maxFailuresPerAddress: 4, windowSeconds: 600, lockoutSeconds: 30 });
  for (const user of ['a', 'b', 'c', 'd']) guard.recordFailure('10.0.0.9', user);
  assert.ok(guard.retryAfter('10.0.0.9', 'someone-else') > 0);
});
