import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Identity, Session } from '../../contract/api.js';
import { ROUTES } from '../../contract/routes.js';
import { METRICS_ROUTE } from '../../controller/http/server.js';
import { startController, keystoneToken } from './harness.js';

const ctl = await startController({ loginGuard: { maxFailuresPerUser: 3, maxFailuresPerAddress: 100, windowSeconds: 600, lockoutSeconds: 30 } });
after(() => ctl.close());

test('[controller] identity: answers as a thinkiosk controller on the openstack backend', async () => {
  const answer = await ctl.call(ROUTES.identity);
  assert.equal(answer.status, 200);
  assert.equal(Identity.parse(answer.body).backend, 'openstack');
});

test('[keystone] login: alice gets a session scoped to project kiosk, with Keystone\'s expiry', async () => {
  const answer = await ctl.call(ROUTES.login, { body: { username: 'alice', password: 'alicepass' } });
  assert.equal(answer.status, 201);
  const session = Session.parse(answer.body);
  assert.equal(session.user.name, 'alice');
  assert.equal(session.project.name, 'kiosk');
  const minutes = (Date.parse(session.expiresAt) - Date.now()) / 60_000;
  assert.ok(minutes > 50 && minutes <= 60, `expires in ${minutes.toFixed(1)} min (Keystone's 1 h)`);
  assert.doesNotMatch(session.token, /^gAAAA/, 'the kiosk never sees the raw Keystone token');
});

test('[keystone] login without a project: the shim scopes to the user\'s own project', async () => {
  const unscoped = await startController({}, { defaultProject: undefined });
  after(() => unscoped.close());
  const answer = await unscoped.call(ROUTES.login, { body: { username: 'bob', password: 'bobpass' } });
  assert.equal(answer.status, 201);
  assert.equal(Session.parse(answer.body).project.name, 'kiosk');
  assert.equal((await unscoped.call(ROUTES.desktops, { token: answer.body.token })).status, 200);
});

test('[keystone] login: wrong password, unknown domain, unknown project → 401 with advice', async () => {
  // A controller of its own: these failures must not lock alice out for the other tests.
  const fresh = await startController();
  after(() => fresh.close());
  for (const body of [
    { username: 'alice', password: 'wrong' },
    { username: 'alice', password: 'alicepass', domain: 'NoSuchDomain' },
    { username: 'alice', password: 'alicepass', project: 'no-such-project' },
  ]) {
    const answer = await fresh.call(ROUTES.login, { body });
    assert.equal(answer.status, 401, JSON.stringify(body));
    assert.equal(answer.body.error.kind, 'invalid-credentials');
    assert.match(answer.body.error.message, /Wrong user name or password/);
  }
  const bad = await fresh.call(ROUTES.login, { body: { username: 'alice' } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error.message, /password/);
});

test('[keystone] brute force: after 3 failures bob is locked out (429 + Retry-After), even with the right password', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await ctl.call(ROUTES.login, { body: { username: 'bob', password: `guess${i}` } })).status, 401);
  const locked = await ctl.call(ROUTES.login, { body: { username: 'bob', password: 'bobpass' } });
  assert.equal(locked.status, 429);
  assert.equal(locked.body.error.kind, 'too-many-attempts');
  assert.ok(Number(locked.headers.get('retry-after')) >= 29);
});

test('[keystone] logout: the session is refused at once and logging out twice is harmless', async () => {
  const token = await ctl.login('alice');
  assert.equal((await ctl.call(ROUTES.desktops, { token })).status, 200);
  assert.equal((await ctl.call(ROUTES.logout, { token })).status, 204);
  const after = await ctl.call(ROUTES.desktops, { token });
  assert.equal(after.status, 401);
  assert.equal(after.body.error.kind, 'session-expired');
  assert.equal((await ctl.call(ROUTES.logout, { token })).status, 204, 'logging out twice is fine');
});

test('[keystone] sessions scale out: a second instance with the same key serves the session, one with another key refuses it', async () => {
  const twin = await startController();
  const stranger = await startController({ sessionKeys: [Buffer.alloc(32, 9).toString('base64')] });
  try {
    const token = await ctl.login('alice');
    assert.equal((await twin.call(ROUTES.desktops, { token })).status, 200);
    const refused = await stranger.call(ROUTES.desktops, { token });
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error.kind, 'session-expired');
  } finally {
    await twin.close();
    await stranger.close();
  }
});

test('[keystone] short-lived sessions: capped below Keystone\'s expiry, then "log in again"', async () => {
  const brief = await startController({ sessionMaxSeconds: 2 });
  try {
    const token = await brief.login('alice');
    assert.equal((await brief.call(ROUTES.desktops, { token })).status, 200);
    await new Promise((r) => setTimeout(r, 2500));
    const expired = await brief.call(ROUTES.desktops, { token });
    assert.equal(expired.status, 401);
    assert.match(expired.body.error.message, /log in again/);
  } finally {
    await brief.close();
  }
});

test('[keystone][nova] a Keystone token revoked behind the shim\'s back → Nova says 401 → "session ended"', async () => {
  const token = await ctl.login('alice');
  // Revoke the session's Keystone token through a twin instance: this one learns of it only from Nova.
  const twin = await startController();
  try {
    assert.equal((await twin.call(ROUTES.logout, { token })).status, 204);
  } finally {
    await twin.close();
  }
  const answer = await ctl.call(ROUTES.desktops, { token });
  assert.equal(answer.status, 401);
  assert.equal(answer.body.error.kind, 'session-expired');
  assert.ok(await keystoneToken('alice', 'alicepass'), 'alice can simply log in again');
});

test('[controller] /metrics: Prometheus text with requests, logins and upstream latency by service', async () => {
  const text = (await ctl.call(METRICS_ROUTE)).body as string;
  assert.match(text, /thinkiosk_http_requests_total\{route="login",status="201"\} \d+/);
  assert.match(text, /thinkiosk_logins_total\{result="ok"\} \d+/);
  assert.match(text, /thinkiosk_logins_total\{result="invalid"\} 3/);
  assert.match(text, /thinkiosk_logins_total\{result="locked"\} [1-9]/);
  assert.match(text, /thinkiosk_upstream_request_duration_seconds_count\{service="keystone",outcome="201"\} [1-9]/);
  assert.match(text, /thinkiosk_upstream_request_duration_seconds_count\{service="nova",outcome="200"\} [1-9]/);
});
