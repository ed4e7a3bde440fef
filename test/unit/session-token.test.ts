import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { SessionSealer, type SessionPayload } from '../../controller/sessions/session-token.js';

const payload = (expiresAt: number): SessionPayload => ({
  v: 2, expiresAt, user: { id: 'u1', name: 'alice' }, project: { id: 'p1', name: 'kiosk' },
  auth: { kind: 'keystone', token: 'gAAAAABkeystone', endpoints: { compute: 'http://nova/v2.1', image: 'http://glance', network: null } },
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

test('session token: a static-inventory session carries only the user; it seals and opens the same way', () => {
  const sealer = new SessionSealer([randomBytes(32)]);
  const token = sealer.seal({ v: 2, expiresAt: Date.now() + 60_000, user: { id: 'demo', name: 'demo' }, project: { id: 'static', name: 'Lab' }, auth: { kind: 'static' } });
  assert.deepEqual(sealer.open(token)?.auth, { kind: 'static' });
});

test('session token: a version 1 token (sealed before the static backend existed) still opens, as a Keystone session', () => {
  const key = randomBytes(32);
  // Sealed exactly as version 1 did: iv | AES-256-GCM(JSON) | tag, additional data "thinkiosk-session-v1".
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from('thinkiosk-session-v1'));
  const v1 = { v: 1, keystoneToken: 'gAAAAABold', expiresAt: Date.now() + 60_000, user: { id: 'u1', name: 'alice' }, project: { id: 'p1', name: 'kiosk' }, endpoints: { compute: 'http://nova/v2.1', image: 'http://glance', network: 'http://neutron' } };
  const body = Buffer.concat([cipher.update(JSON.stringify(v1), 'utf8'), cipher.final()]);
  const token = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  const opened = new SessionSealer([key]).open(token);
  assert.deepEqual(opened?.auth, { kind: 'keystone', token: 'gAAAAABold', endpoints: v1.endpoints });
  assert.equal(opened?.user.name, 'alice');
});
