import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeOutcome } from '../../controller/desktops/static/desktop-probe.js';
import { Reachability } from '../../controller/desktops/static/reachability.js';

/** A server whose answer the test sets, a clock the test moves, and a count of what was asked. */
function fixture() {
  let now = 1_000_000;
  let answer: ProbeOutcome = { state: 'up' };
  const asked: number[] = [];
  const reach = new Reachability({
    probeTimeoutMs: 100, probeIntervalMs: 60_000, downRecheckMs: 5000, now: () => now,
    probe: async () => { asked.push(now); return answer; },
  });
  const target = { host: '10.0.0.7', port: 5900 };
  return {
    reach, asked, status: () => reach.status('vnc', target), suspect: () => reach.suspect('vnc', target),
    observe: (o: ProbeOutcome) => reach.observe('vnc', target, o),
    advance: (ms: number) => { now += ms; }, set: (o: ProbeOutcome) => { answer = o; },
  };
}

test('reachability: an up server is asked once a minute however often lists are shown', async () => {
  const f = fixture();
  assert.equal((await f.status()).state, 'up');
  for (let i = 0; i < 50; i++) { f.advance(1000); await f.status(); }
  assert.equal(f.asked.length, 1, '50 s of lists: one probe');
  f.advance(10_000);
  await f.status();
  assert.equal(f.asked.length, 2, 'past the interval: asked again');
});

test('reachability: a server found down is asked again after seconds, and is up in the list as soon as it answers', async () => {
  const f = fixture();
  f.set({ state: 'down', reason: 'refused' });
  assert.equal((await f.status()).state, 'down');
  f.advance(3000);
  await f.status();
  assert.equal(f.asked.length, 1, 'not before the recheck time');
  f.set({ state: 'up' });
  f.advance(2500);
  assert.equal((await f.status()).state, 'up');
  assert.equal(f.asked.length, 2);
});

test('reachability: a console the server ended by itself makes the next list ask again; a refusal seen by the relay shows at once', async () => {
  const f = fixture();
  await f.status();
  f.advance(2000);
  f.suspect();
  f.set({ state: 'down', reason: 'refused' });
  assert.equal((await f.status()).state, 'down', 'asked at once, not a minute later');
  assert.equal(f.asked.length, 2);
  f.observe({ state: 'up' });
  assert.equal((await f.status()).state, 'up', 'a console that connected is as good as a probe');
  f.observe({ state: 'down', reason: 'refused' });
  assert.equal((await f.status()).state, 'down');
});

test('reachability: a server that cannot be asked politely is left alone for an hour and shown as unknown', async () => {
  const f = fixture();
  f.set({ state: 'unprobeable', reason: 'it refuses the VNC password in the inventory' });
  assert.deepEqual(await f.status(), { state: 'unknown', reason: 'it refuses the VNC password in the inventory' });
  for (let i = 0; i < 30; i++) { f.advance(60_000); await f.status(); }
  assert.equal(f.asked.length, 1, 'thirty minutes: not asked again');
});
