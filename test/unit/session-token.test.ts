import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SessionSealer, type SessionPayload } from '../../controller/session-token.js';

const payload = (expiresAt: number): SessionPayload => ({
  v: 1, keystoneToken: 'gAAAAABkeystone', expiresAt,
  user: { id: 'u1', name: 'alice' }, project: { id: 'p1', name: 'kiosk' },
  endpoints: { compute: 'http://nova/v2.1', image: 'http://glance', network: null },
});

test('session token: sealed by one instance, opened by another with the same key', () => {
  const key = randomBytes(32);
  const token = new SessionSealer([key]).seal(payload(Date.now() + 60_000));
  assert.doesNotMatch(token, /keystone|alice/, 'the Keystone token and user are not readable in the session token');
  assert.equal(new SessionSealer([Buffer.from(key)]).open(token)?.user.name, 'alice');
});

test('session token: a different key, a flipped bit, garbage or an expired token all fail closed', () => {
  const sealer = new SessionSealer([randomBytes(32)]);
  const token = sealer.seal(payload(Date.now() + 60_000));
  assert.equal(new SessionSealer([randomBytes(32)]).open(token), null);
  const raw = Buffer.from(token, 'base64url');
  raw[20] = raw[20]! ^ 1;
  assert.equal(sealer.open(raw.toString('base64url')), null);
  assert.equal(sealer.open('not-a-token'), null);
  assert.equal(sealer.open(sealer.seal(payload(Date.now() - 1))), null);
});

test('session token: key rotation — tokens sealed with the old key still open, new ones use the new key', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const oldToken = new SessionSealer([oldKey]).seal(payload(Date.now() + 60_000));
  const rotated = new SessionSealer([newKey, oldKey]);
  assert.equal(rotated.open(oldToken)?.user.id, 'u1');
  assert.equal(new SessionSealer([newKey]).open(rotated.seal(payload(Date.now() + 60_000)))?.user.id, 'u1');
  assert.throws(() => new SessionSealer([randomBytes(16)]), /32 bytes/);
});
