import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginGuard, type Admission } from '../../controller/kiosk-api/login-guard.js';

function admitted(admission: Admission) {
  assert.ok(admission.admitted, `refused: ${JSON.stringify(admission)}`);
  return admission.attempt;
}
function waitOf(admission: Admission): number {
  return admission.admitted ? 0 : admission.retryAfterSeconds;
}

test('login guard: locks a user after the limit, doubles the lock, success clears it', () => {
  let now = 1_000_000;
  const guard = new LoginGuard({ maxFailuresPerUser: 3, maxFailuresPerAddress: 100, windowSeconds: 600, lockoutSeconds: 10 }, () => now);
  for (let i = 0; i < 2; i++) admitted(guard.begin('10.0.0.1', 'Alice')).failed();
  admitted(guard.begin('10.0.0.1', 'alice')).failed();
  const locked = guard.begin('10.0.0.1', 'ALICE');
  assert.equal(waitOf(locked), 10, 'user names compare case-insensitively');
  assert.equal(locked.admitted || locked.busy, false, 'a lock, not a hold');
  admitted(guard.begin('10.0.0.2', 'alice')).abandoned(); // another kiosk is not locked out
  admitted(guard.begin('10.0.0.1', 'bob')).abandoned(); // another user is not locked out
  now += 11_000;
  admitted(guard.begin('10.0.0.1', 'alice')).failed();
  assert.equal(waitOf(guard.begin('10.0.0.1', 'alice')), 20);
  now += 21_000;
  admitted(guard.begin('10.0.0.1', 'alice')).succeeded();
  admitted(guard.begin('10.0.0.1', 'alice')).abandoned();
});

test('login guard: forty guesses for one user sent at once — only the limit reach the backend, the rest wait', () => {
  const guard = new LoginGuard({ maxFailuresPerUser: 5, maxFailuresPerAddress: 50, windowSeconds: 600, lockoutSeconds: 30 });
  const admissions = Array.from({ length: 40 }, () => guard.begin('10.0.0.7', 'alice'));
  const through = admissions.filter((a) => a.admitted);
  assert.equal(through.length, 5);
  assert.ok(admissions.filter((a) => !a.admitted).every((a) => !a.admitted && a.busy && a.retryAfterSeconds > 0));
  for (const a of through) if (a.admitted) a.attempt.failed();
  const after = guard.begin('10.0.0.7', 'alice');
  assert.ok(!after.admitted && !after.busy && after.retryAfterSeconds === 30, 'five failures lock the name');
});

test('login guard: an address spraying many user names is locked as a whole', () => {
  const guard = new LoginGuard({ maxFailuresPerUser: 5, maxFailuresPerAddress: 4, windowSeconds: 600, lockoutSeconds: 30 });
  for (const user of ['a', 'b', 'c', 'd']) admitted(guard.begin('10.0.0.9', user)).failed();
  assert.ok(waitOf(guard.begin('10.0.0.9', 'someone-else')) > 0);
});

test('login guard: a classroom behind one NAT is not locked out by its typos — each person who then logs in is forgiven', () => {
  const guard = new LoginGuard({ maxFailuresPerUser: 5, maxFailuresPerAddress: 10, windowSeconds: 900, lockoutSeconds: 30 });
  for (let i = 0; i < 30; i++) {
    const name = `student${i}`;
    admitted(guard.begin('203.0.113.5', name)).failed(); // a typo
    admitted(guard.begin('203.0.113.5', name)).succeeded(); // then the right password
  }
  admitted(guard.begin('203.0.113.5', 'student30')).abandoned();
  // The same NAT with a sprayer behind it: its names never succeed, so they add up.
  for (let i = 0; i < 10; i++) admitted(guard.begin('203.0.113.5', `victim${i}`)).failed();
  assert.ok(waitOf(guard.begin('203.0.113.5', 'student31')) > 0);
});
