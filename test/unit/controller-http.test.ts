/**
 * The controller's HTTP layer in-process (fastify's inject, no socket) with a stand-in backend:
 * the v1 API's answers as the kiosk reads them — statuses, the error body and its sentences,
 * Retry-After, no-store — and the order of its checks (no session is 401 before a bad body is 400).
 * The same server carries the routes of other tables (the fleet and admin APIs to come): a route
 * served with serveRoute shares the error handler and the not-found answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { z } from 'zod';
import type { Console, Desktop, LoginRequest, PowerAction, PowerResult } from '../../contract/api.js';
import { pathOf, ROUTES, type ApiRoute } from '../../contract/routes.js';
import { createController } from '../../controller/app.js';
import { ApiError } from '../../controller/core/api-error.js';
import { parseConfig } from '../../controller/core/config.js';
import type { Logger, LogLevel } from '../../controller/core/log.js';
import { Metrics } from '../../controller/core/metrics.js';
import type { DesktopBackend, LoginResult } from '../../controller/desktops/backend.js';
import { serveRoute } from '../../controller/http/route-table.js';
import { METRICS_ROUTE } from '../../controller/http/server.js';
import { EndedSessions } from '../../controller/sessions/ended-sessions.js';
import { SessionSealer } from '../../controller/sessions/session-token.js';

/** Alice (password "pw") has one desktop, d1; 'boom' is a desktop whose lookup fails unexpectedly. */
class StandInBackend implements DesktopBackend {
  readonly kind = 'static';
  readonly calls: string[] = [];

  async login({ username, password }: LoginRequest): Promise<LoginResult> {
    this.calls.push(`login ${username}`);
    if (username !== 'alice' || password !== 'pw') throw new ApiError('invalid-credentials', 'Wrong user name or password.');
    return { user: { id: 'alice', name: 'alice' }, project: { id: 'p', name: 'P' }, admin: false, expiresAt: new Date(Date.now() + 3_600_000), auth: { kind: 'static' } };
  }
  async logout(): Promise<void> { this.calls.push('logout'); }
  async validate(): Promise<void> {}
  async listDesktops(): Promise<Desktop[]> { return []; }
  async getDesktop(_session: unknown, id: string): Promise<Desktop> {
    this.calls.push(`desktop ${id}`);
    if (id === 'boom') throw new Error('inventory index corrupt at /srv/secret');
    throw new ApiError('not-found', 'That desktop no longer exists. Refresh the list.');
  }
  async power(_session: unknown, id: string, action: PowerAction): Promise<PowerResult> {
    this.calls.push(`power ${id} ${action}`);
    return action === 'start' ? { outcome: 'accepted', message: 'Starting.' } : { outcome: 'unchanged', message: 'Already stopped.' };
  }
  async console(): Promise<Console> { throw new ApiError('not-ready', 'The desktop is not running.'); }
}

class RecordingLogger implements Logger {
  readonly lines: { level: LogLevel; event: string; fields: Record<string, unknown> }[] = [];
  log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void { this.lines.push({ level, event, fields }); }
}

function controller() {
  const backend = new StandInBackend();
  const logger = new RecordingLogger();
  const metrics = new Metrics();
  const config = parseConfig({ name: 'Unit site', openstack: { authUrl: 'http://127.0.0.1:9/v3' } }, 'unit test');
  const app = createController({ config, backend, sealer: new SessionSealer([Buffer.alloc(32, 3)]), endedSessions: new EndedSessions(null, logger), metrics, logger });
  const call = (route: Pick<ApiRoute, 'method' | 'path'>, options: { params?: Record<string, string>; token?: string; payload?: string; headers?: Record<string, string> } = {}) => app.inject({
    method: route.method, url: pathOf(route, options.params ?? {}), payload: options.payload,
    headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
  });
  const login = async (): Promise<string> => {
    const answer = await call(ROUTES.login, { payload: JSON.stringify({ username: 'alice', password: 'pw' }), headers: { 'content-type': 'application/json' } });
    assert.equal(answer.statusCode, 201, answer.body);
    return (answer.json() as { token: string }).token;
  };
  return { app, backend, logger, metrics, call, login };
}

function assertError(answer: LightMyRequestResponse, status: number, kind: string, message: string | RegExp): void {
  assert.equal(answer.statusCode, status, answer.body);
  assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(answer.headers['cache-control'], 'no-store');
  const { error } = answer.json() as { error: { kind: string; message: string } };
  assert.equal(error.kind, kind);
  if (typeof message === 'string') assert.equal(error.message, message);
  else assert.match(error.message, message);
}

test('controller http: answers are JSON no cache keeps, with the statuses of the contract', async () => {
  const { call, login } = controller();
  const identity = await call(ROUTES.identity);
  assert.equal(identity.statusCode, 200);
  assert.equal(identity.headers['cache-control'], 'no-store');
  assert.deepEqual(identity.json(), { product: 'thinkiosk-controller', apiVersion: 1, version: '0.1.0', name: 'Unit site', backend: 'openstack' });
  const token = await login();
  const started = await call(ROUTES.power, { params: { id: 'd1' }, token, payload: '{"action":"start"}' });
  assert.equal(started.statusCode, 202);
  assert.deepEqual(started.json(), { outcome: 'accepted', message: 'Starting.' });
  assert.equal((await call(ROUTES.power, { params: { id: 'd1' }, token, payload: '{"action":"stop"}' })).statusCode, 200);
  const logout = await call(ROUTES.logout, { token });
  assert.equal(logout.statusCode, 204);
  assert.equal(logout.body, '');
  assertError(await call(ROUTES.desktops, { token }), 401, 'session-expired', 'Your session has ended. Please log in again.');
});

test('controller http: a bad body gets a sentence naming what is wrong, whatever its Content-Type', async () => {
  const { call, login } = controller();
  const token = await login();
  const power = (payload: string | undefined, headers: Record<string, string> = {}) => call(ROUTES.power, { params: { id: 'd1' }, token, payload, headers });
  assertError(await power('{"action":'), 400, 'bad-request', 'The request is not valid JSON.');
  assertError(await power(JSON.stringify({ action: 'x'.repeat(17 * 1024) })), 400, 'bad-request', 'The request is too large.');
  assertError(await power('{"action":"fly"}'), 400, 'bad-request', /^The request is incomplete or wrong: action /);
  assertError(await power(undefined), 400, 'bad-request', /^The request is incomplete or wrong: action /);
  assertError(await power('null'), 400, 'bad-request', /^The request is incomplete or wrong: body /);
  for (const type of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'json', '']) {
    assert.equal((await power('{"action":"start"}', { 'content-type': type })).statusCode, 202, `Content-Type: ${type}`);
  }
});

test('controller http: without a session the answer is 401, before the body is judged', async () => {
  const { call, backend } = controller();
  assertError(await call(ROUTES.power, { params: { id: 'd1' }, payload: '{"action":' }), 401, 'session-expired', 'Please log in.');
  assertError(await call(ROUTES.power, { params: { id: 'd1' }, payload: 'x'.repeat(64 * 1024) }), 401, 'session-expired', 'Please log in.');
  assertError(await call(ROUTES.console, { params: { id: 'd1' }, token: 'forged', payload: '{}' }), 401, 'session-expired', 'Your session has ended. Please log in again.');
  assert.deepEqual(backend.calls, []);
});

test('controller http: an id is [\\w-]{1,64} as sent; another path or method is told apart', async () => {
  const { call, login, backend } = controller();
  const token = await login();
  assertError(await call(ROUTES.desktop, { params: { id: 'a'.repeat(64) }, token }), 404, 'not-found', 'That desktop no longer exists. Refresh the list.');
  for (const url of ['/v1/desktops/%41', `/v1/desktops/${'a'.repeat(65)}`, `/v1/desktops/${'a'.repeat(101)}`, '/v1/desktops/%zz', '/v1/desktops/a.b', '/v1/identity/', '/v1/%69dentity', '/nothing']) {
    const path = new URL(url, 'http://x').pathname;
    assertError(await call({ method: 'GET', path: url }, { token }), 404, 'not-found', `No such API path: ${path}`);
  }
  assert.deepEqual(backend.calls.filter((c) => c.startsWith('desktop')), [`desktop ${'a'.repeat(64)}`]);
  assert.equal((await call({ method: 'GET', path: '/v1/desktops/../identity' })).statusCode, 200, 'dot segments resolve as the URL parser does');
  for (const method of ['HEAD', 'PATCH', 'OPTIONS', 'PUT'] as const) {
    const answer = await call({ method: method as 'GET', path: ROUTES.identity.path });
    assert.equal(answer.statusCode, 400);
    if (method !== 'HEAD') assert.equal((answer.json() as { error: { message: string } }).error.message, `Method ${method} is not allowed here.`);
  }
  assertError(await call({ method: 'POST', path: METRICS_ROUTE.path }), 400, 'bad-request', 'Method POST is not allowed here.');
  assertError(await call({ method: 'POST', path: '/nothing' }, { payload: '{"not json' }), 404, 'not-found', 'No such API path: /nothing');
  assert.equal((await call(ROUTES.logout, { token: 'forged', payload: '{"not json' })).statusCode, 204, 'a route without a body never reads one');
});

test('controller http: too many failed logins get 429 with Retry-After', async () => {
  const { call } = controller();
  const wrong = () => call(ROUTES.login, { payload: JSON.stringify({ username: 'alice', password: 'nope' }) });
  for (let i = 0; i < 5; i++) assertError(await wrong(), 401, 'invalid-credentials', 'Wrong user name or password.');
  const locked = await wrong();
  assertError(locked, 429, 'too-many-attempts', 'Too many failed logins. Wait 30 seconds and try again.');
  assert.equal(locked.headers['retry-after'], '30');
  assert.equal((locked.json() as { error: { retryAfterSeconds: number } }).error.retryAfterSeconds, 30);
});

test('controller http: an unexpected failure is a 500 with a sentence; what happened goes to the log only', async () => {
  const { call, login, logger } = controller();
  const answer = await call(ROUTES.desktop, { params: { id: 'boom' }, token: await login() });
  assertError(answer, 500, 'internal', 'Something went wrong in the controller. Please try again.');
  assert.doesNotMatch(answer.body, /secret|corrupt/);
  const failed = logger.lines.find((l) => l.event === 'request-failed' && l.fields.status === 500);
  assert.equal(failed?.level, 'error');
  assert.equal(failed?.fields.route, 'desktop');
  assert.equal(failed?.fields.path, '/v1/desktops/boom');
  assert.match(String(failed?.fields.detail), /inventory index corrupt/);
});

test('controller http: /metrics counts requests by route and status, unmatched ones as unknown', async () => {
  const { call, login } = controller();
  await login();
  await call({ method: 'GET', path: '/v1/desktops/%41' });
  const scrape = await call(METRICS_ROUTE);
  assert.equal(scrape.statusCode, 200);
  assert.equal(scrape.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(scrape.body, /^thinkiosk_http_requests_total\{route="login",status="201"\} 1$/m);
  assert.match(scrape.body, /^thinkiosk_http_requests_total\{route="unknown",status="404"\} 1$/m);
  assert.match(scrape.body, /^thinkiosk_logins_total\{result="ok"\} 1$/m);
  assert.match(scrape.body, /^thinkiosk_process_resident_memory_bytes \d+/m);
});

test('controller http: routes of another table share the error handler, the body rules and the not-found answers', async () => {
  const { app, call } = controller();
  const FLEET = { enrol: { name: 'enrol', method: 'POST', path: '/fleet/v1/kiosks/:id', request: z.object({ hostname: z.string() }), reply: z.object({ enrolled: z.string() }) } } as const;
  await app.register(async (fleet) => {
    serveRoute(fleet, FLEET.enrol, { authenticate: async (request) => {
      if (request.headers['x-kiosk-key'] !== 'k') throw new ApiError('forbidden', 'This kiosk is not known here.');
      return 'kiosk-7';
    } }, async ({ params, body, caller }) => ({ status: 201, body: { enrolled: `${caller} ${params.id} ${body.hostname}` } }));
  });
  const enrol = (payload: string, key = 'k') => call(FLEET.enrol, { params: { id: 'k7' }, payload, headers: { 'x-kiosk-key': key } });
  const done = await enrol('{"hostname":"lab3-07"}');
  assert.equal(done.statusCode, 201);
  assert.deepEqual(done.json(), { enrolled: 'kiosk-7 k7 lab3-07' });
  assertError(await enrol('{"hostname":', 'wrong'), 403, 'forbidden', 'This kiosk is not known here.');
  assertError(await enrol('{}'), 400, 'bad-request', /^The request is incomplete or wrong: hostname /);
  assertError(await call({ method: 'GET', path: '/fleet/v1/kiosks/k7' }), 400, 'bad-request', 'Method GET is not allowed here.');
  assert.match((await call(METRICS_ROUTE)).body, /^thinkiosk_http_requests_total\{route="enrol",status="201"\} 1$/m);
});
