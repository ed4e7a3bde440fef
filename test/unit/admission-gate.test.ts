import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionGate } from '../../controller/desktops/admission-gate.js';
import { ApiError } from '../../controller/core/api-error.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('admission gate: never more than maxInFlight calls at once, the rest wait their turn in order', async () => {
  const gate = new AdmissionGate({ maxInFlight: 2, maxWaiting: 10, maxWaitMs: 5000, busyMessage: 'Busy.', service: 'keystone' });
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const login = (i: number) => gate.run(async () => {
    running += 1; peak = Math.max(peak, running);
    await sleep(20);
    running -= 1; order.push(i);
    return i;
  });
  const results = await Promise.all([0, 1, 2, 3, 4, 5].map(login));
  assert.deepEqual(results, [0, 1, 2, 3, 4, 5]);
  assert.equal(peak, 2);
  assert.deepEqual(order.slice(2), [2, 3, 4, 5], 'waiters are admitted first come, first served');
});

test('admission gate: a full queue or a long wait answers "try again in N seconds" instead of piling on', async () => {
  const gate = new AdmissionGate({ maxInFlight: 1, maxWaiting: 1, maxWaitMs: 50, busyMessage: 'Many people are logging in right now.', service: 'keystone' });
  const slow = gate.run(() => sleep(200));
  const queued = gate.run(() => sleep(1)).catch((e: unknown) => e);
  const refused = await gate.run(() => sleep(1)).catch((e: unknown) => e);
  assert.ok(refused instanceof ApiError);
  assert.equal(refused.status, 503);
  assert.equal(refused.extra.service, 'keystone');
  assert.match(refused.userMessage, /Many people are logging in right now\. Please try again in \d+ seconds\./);
  assert.ok((refused.extra.retryAfterSeconds ?? 0) >= 2);
  const timedOut = await queued;
  assert.ok(timedOut instanceof ApiError, 'the waiter gave up after maxWaitMs');
  assert.equal(gate.queued, 0);
  await slow;
  assert.equal(await gate.run(async () => 'free again'), 'free again', 'a failed or slow call never leaks a slot');
  await assert.rejects(gate.run(async () => { throw new Error('keystone down'); }), /keystone down/);
  assert.equal(await gate.run(async () => 'still free'), 'still free');
});
