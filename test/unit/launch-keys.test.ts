// The browser shell's launch keys (app/core/launch-keys.ts): a one-time token per Chromium launch,
// traded once for the launch's key; a new launch revokes everything earlier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LaunchKeys } from '../../app/core/launch-keys.js';

test('launch keys: the token is traded for the key once; a second try with it gets nothing', () => {
  const keys = new LaunchKeys();
  const { token } = keys.beginLaunch();
  const key = keys.exchange(token);
  assert.ok(key && key !== token && key.length >= 32);
  assert.equal(keys.accepts(key), true);
  assert.equal(keys.exchange(token), null, 'a token works once');
  assert.equal(keys.accepts(key), true, 'the key keeps working for its launch');
});

test('launch keys: a new Chromium launch revokes the last one\'s token and key', () => {
  const keys = new LaunchKeys();
  const first = keys.beginLaunch();
  const firstKey = keys.exchange(first.token)!;
  const unused = keys.beginLaunch();
  assert.equal(keys.accepts(firstKey), false, 'the earlier Chromium\'s key stops working');
  const third = keys.beginLaunch();
  assert.equal(keys.exchange(unused.token), null, 'an earlier launch\'s unused token stops working too');
  assert.equal(third.launch, 3);
  assert.ok(keys.exchange(third.token));
});

test('launch keys: wrong, empty, longer and shorter guesses are refused; nothing before the first launch', () => {
  const keys = new LaunchKeys();
  assert.equal(keys.accepts('anything'), false);
  assert.equal(keys.exchange('anything'), null);
  const { token } = keys.beginLaunch();
  for (const guess of ['', token.slice(1), `${token}x`, token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase()]) {
    assert.equal(keys.exchange(guess), null, JSON.stringify(guess));
  }
  const key = keys.exchange(token)!;
  for (const guess of [undefined, '', key.slice(0, -1), `${key}=`]) assert.equal(keys.accepts(guess), false, JSON.stringify(guess));
});

test('launch keys: whoever listens hears which launch\'s page has loaded', () => {
  const keys = new LaunchKeys();
  const heard: number[] = [];
  const stop = keys.onExchange((launch) => heard.push(launch));
  keys.exchange(keys.beginLaunch().token);
  keys.exchange('not a token');
  keys.exchange(keys.beginLaunch().token);
  stop();
  keys.exchange(keys.beginLaunch().token);
  assert.deepEqual(heard, [1, 2]);
});
