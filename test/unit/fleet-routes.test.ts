/**
 * The fleet's two fastify plugins over real HTTP: a bare fastify on 127.0.0.1 with the kiosk routes
 * and the admin routes, the service on an SQLite file, driven with fetch through the contract's
 * route tables. Who is an administrator is decided by a stand-in for the controller's session
 * check (the integrator passes the real one): `Bearer admin:<name>` is an administrator,
 * `Bearer person:<name>` a person who is not, anything else no session.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { silentLogger } from '../../controller/core/log.js';
import { Metrics } from '../../controller/core/metrics.js';
import { createHttpServer } from '../../controller/http/server.js';
import { Registry } from 'prom-client';
import { ErrorBody } from '../../contract/api.js';
import { CheckInReply, Enrolment, FLEET_PREFIX } from '../../contract/fleet.js';
import { AuditLog, CommandRecord, KioskDetail, KioskList, MadeSiteToken, macPathParam } from '../../contract/fleet-admin.js';
import { ADMIN_ROUTES, FLEET_ROUTES, KIOSK_SCREENSHOT_ROUTE, pathOf } from '../../contract/routes.js';
import { ApiError } from '../../controller/core/api-error.js';
import { fleetAdminRoutes } from '../../controller/fleet/admin-routes.js';
import { FleetConfig } from '../../controller/fleet/config.js';
import { fleetKioskRoutes } from '../../controller/fleet/kiosk-routes.js';
import { FleetService } from '../../controller/fleet/service.js';
import { routeCaller, type Answer, type RouteCaller } from '../support/controller-call.js';
import { checkInBody, hardware, sample, updateStatus } from '../support/fleet-scenarios.js';

/** Stands in for the controller's session check: the real one opens a sealed session and reads Session.admin. */
async function standInAuthenticateAdmin(request: FastifyRequest): Promise<{ user: string }> {
  const [, role, user] = /^Bearer (admin|person):(\w+)$/.exec(request.headers.authorization ?? '') ?? [];
  if (!role || !user) throw new ApiError('session-expired', 'Please log in.', 'no session');
  if (role !== 'admin') throw new ApiError('forbidden', 'Only administrators can open the fleet page.', `${user} is not an administrator`);
  return { user };
}

const ADMIN = 'admin:ada';
const PERSON = 'person:bob';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);

let dir: string;
let app: FastifyInstance;
let service: FleetService;
let registry: Registry;
let baseUrl: string;
let call: RouteCaller;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'thinkiosk-fleet-routes-'));
  // The controller's own HTTP server (error handler, path rule, metrics), with only the fleet on it.
  const metrics = new Metrics();
  registry = metrics.registry;
  service = await FleetService.open(FleetConfig.parse({ database: `sqlite:${path.join(dir, 'fleet.sqlite')}`, screenshotMaxBytes: 4096 }), { registry });
  app = createHttpServer({ metrics, logger: silentLogger });
  await app.register(fleetKioskRoutes, { service });
  await app.register(fleetAdminRoutes, { service, authenticateAdmin: standInAuthenticateAdmin });
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  call = routeCaller(baseUrl);
});

after(async () => {
  await app?.close();
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

function refused(answer: Answer, status: number, kind: string): string {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  const body = ErrorBody.parse(answer.body);
  assert.equal(body.error.kind, kind);
  assert.equal(answer.headers.get('content-type'), 'application/json; charset=utf-8');
  return body.error.message;
}

/** A kiosk enrolled through the API with a fresh site token. */
async function enrolled(n: number): Promise<{ enrolment: Enrolment; credential: string }> {
  const made = MadeSiteToken.parse((await call(ADMIN_ROUTES.newSiteToken, { token: ADMIN, body: { label: `box ${n}` } })).body);
  const answer = await call(FLEET_ROUTES.enrol, { body: { siteToken: made.token, hardware: hardware(n) } });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  const enrolment = Enrolment.parse(answer.body);
  return { enrolment, credential: `${enrolment.kioskId}.${enrolment.secret}` };
}

test('fleet routes: a check-in or screenshot without the kiosk\'s credential, or with a wrong one, is 401 (before its body is judged)', async () => {
  const { enrolment } = await enrolled(1);
  for (const token of [undefined, 'nonsense', `${enrolment.kioskId}.wrong-secret-wrong-secret-wrong-secret`]) {
    const message = refused(await call(FLEET_ROUTES.checkIn, { token, body: { not: 'a check-in' } }), 401, 'invalid-credentials');
    assert.match(message, /the kiosk enrols again/);
    refused(await call(FLEET_ROUTES.screenshot, { token, body: {} }), 401, 'invalid-credentials');
  }
  assert.ok((sample(await registry.metrics(), 'thinkiosk_fleet_check_ins_total', { result: 'refused' }) ?? 0) >= 3);
});

test('fleet routes: a bad body is 400 with a sentence naming what is wrong', async () => {
  let message = refused(await call(FLEET_ROUTES.enrol, { body: { hardware: { macs: ['52-54-00-00-00-01'], hostname: 'x', board: 'y' } } }), 400, 'bad-request');
  assert.equal(message, 'The request is incomplete or wrong: hardware.macs.0 must be a MAC address like 52:54:00:12:34:56 (lower case)');
  const raw = await fetch(`${baseUrl}${FLEET_ROUTES.enrol.path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"hardware": ' });
  refused({ status: raw.status, body: await raw.json(), headers: raw.headers }, 400, 'bad-request');
  const { credential } = await enrolled(2);
  message = refused(await call(FLEET_ROUTES.checkIn, { token: credential, body: { ...checkInBody(), acks: 'none' } }), 400, 'bad-request');
  assert.match(message, /^The request is incomplete or wrong: acks /);
  assert.equal(sample(await registry.metrics(), 'thinkiosk_fleet_check_ins_total', { result: 'invalid' }), 1);
  const huge = await fetch(`${baseUrl}${FLEET_ROUTES.checkIn.path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${credential}` }, body: JSON.stringify({ pad: 'x'.repeat(300 * 1024) }) });
  assert.equal(refused({ status: huge.status, body: await huge.json(), headers: huge.headers }, 400, 'bad-request'), 'The request is too large.');
  message = refused(await call(ADMIN_ROUTES.siteSettings, { token: ADMIN, body: { settings: { idle_logout_minutes: 'soon' } } }), 400, 'bad-request');
  assert.equal(message, 'These settings cannot be stored: idle_logout_minutes must be a whole number from 0 (never) to 1440.');
});

test('fleet routes: the admin API is 403 for a person who is not an administrator, 401 without a session', async () => {
  const { enrolment } = await enrolled(3);
  for (const [route, params] of [[ADMIN_ROUTES.kiosks, undefined], [ADMIN_ROUTES.kiosk, { id: enrolment.kioskId }], [KIOSK_SCREENSHOT_ROUTE, { id: enrolment.kioskId }]] as const) {
    const options = { params } as { params: { id: string } };
    assert.equal(refused(await call(route, { ...options, token: PERSON }), 403, 'forbidden'), 'Only administrators can open the fleet page.');
    refused(await call(route, options), 401, 'session-expired');
  }
  refused(await call(ADMIN_ROUTES.forgetKiosk, { params: { id: enrolment.kioskId }, token: PERSON }), 403, 'forbidden');
  assert.equal((await call(ADMIN_ROUTES.kiosk, { params: { id: enrolment.kioskId }, token: ADMIN })).status, 200, 'still there');
});

test('fleet routes: enrol, check in, an administrator\'s command reaches the kiosk, its ack reaches the admin page', async () => {
  const { enrolment, credential } = await enrolled(4);
  let reply = CheckInReply.parse((await call(FLEET_ROUTES.checkIn, { token: credential, body: checkInBody() })).body);
  assert.deepEqual(reply.commands, []);

  const issued = await call(ADMIN_ROUTES.command, { params: { id: enrolment.kioskId }, token: ADMIN, body: { kind: 'restart-app' } });
  assert.equal(issued.status, 201);
  const command = CommandRecord.parse(issued.body);
  assert.equal(command.issuedBy, 'ada');
  refused(await call(ADMIN_ROUTES.command, { params: { id: enrolment.kioskId }, token: ADMIN, body: { kind: 'restart-app' } }), 409, 'conflict');

  reply = CheckInReply.parse((await call(FLEET_ROUTES.checkIn, { token: credential, body: checkInBody() })).body);
  assert.deepEqual(reply.commands.map((c) => [c.id, c.kind]), [[command.id, 'restart-app']]);
  reply = CheckInReply.parse((await call(FLEET_ROUTES.checkIn, { token: credential, body: checkInBody((b) => { b.acks = [{ id: command.id, outcome: 'done', at: new Date().toISOString() }]; }) })).body);
  assert.deepEqual(reply.commands, []);

  const detail = KioskDetail.parse((await call(ADMIN_ROUTES.kiosk, { params: { id: enrolment.kioskId }, token: ADMIN })).body);
  assert.equal(detail.commands[0]?.state, 'done');
  const list = KioskList.parse((await call(ADMIN_ROUTES.kiosks, { token: ADMIN })).body);
  assert.equal(list.kiosks.find((k) => k.id === enrolment.kioskId)?.state, 'online');
  const audit = AuditLog.parse((await call(ADMIN_ROUTES.audit, { token: ADMIN })).body);
  assert.deepEqual([audit.entries[0]?.who, audit.entries[0]?.action], ['ada', 'command']);
  const limited = await fetch(`${baseUrl}${ADMIN_ROUTES.audit.path}?limit=1`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  assert.equal(AuditLog.parse(await limited.json()).entries.length, 1);

  // Forgotten: its credential no longer opens a check-in.
  assert.equal((await call(ADMIN_ROUTES.forgetKiosk, { params: { id: enrolment.kioskId }, token: ADMIN })).status, 204);
  refused(await call(FLEET_ROUTES.checkIn, { token: credential, body: checkInBody() }), 401, 'invalid-credentials');
  refused(await call(ADMIN_ROUTES.kiosk, { params: { id: enrolment.kioskId }, token: ADMIN }), 404, 'not-found');
});

test('fleet routes: a screenshot the kiosk uploads for a command is served to administrators as image/png', async () => {
  const { enrolment, credential } = await enrolled(5);
  const upload = (commandId: string) => call(FLEET_ROUTES.screenshot, { token: credential, body: { commandId, pngBase64: PNG.toString('base64') } });
  refused(await upload('00000000-0000-4000-8000-000000000000'), 409, 'conflict');
  const command = CommandRecord.parse((await call(ADMIN_ROUTES.command, { params: { id: enrolment.kioskId }, token: ADMIN, body: { kind: 'screenshot' } })).body);
  assert.equal((await upload(command.id)).status, 204);

  const picture = await fetch(`${baseUrl}${pathOf(KIOSK_SCREENSHOT_ROUTE, { id: enrolment.kioskId })}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  assert.equal(picture.status, 200);
  assert.equal(picture.headers.get('content-type'), 'image/png');
  assert.ok(Buffer.from(await picture.arrayBuffer()).equals(PNG));
  const detail = KioskDetail.parse((await call(ADMIN_ROUTES.kiosk, { params: { id: enrolment.kioskId }, token: ADMIN })).body);
  assert.ok(detail.screenshotAt);
  // The upload may be bigger than a check-in, but not bigger than the configured picture.
  const big = await call(FLEET_ROUTES.screenshot, { token: credential, body: { commandId: command.id, pngBase64: Buffer.concat([PNG, Buffer.alloc(4096)]).toString('base64') } });
  assert.equal(refused(big, 400, 'bad-request'), 'The screenshot is larger than the controller takes (4 KiB).');
  const huge = await call(FLEET_ROUTES.screenshot, { token: credential, body: { commandId: command.id, pngBase64: Buffer.alloc(8192).toString('base64') } });
  assert.equal(refused(huge, 400, 'bad-request'), 'The request is too large.', 'refused before it is read whole');
});

test('fleet routes: path parameters follow the contract\'s rule; a registered MAC is forgotten by its dashed form', async () => {
  const odd = await fetch(`${baseUrl}/v1/admin/kiosks/a.b/screenshot`, { headers: { Authorization: `Bearer ${ADMIN}` } });
  assert.equal(odd.status, 404);
  assert.equal(ErrorBody.parse(await odd.json()).error.message, 'No such API path: /v1/admin/kiosks/a.b/screenshot');
  assert.equal((await call(ADMIN_ROUTES.registerMac, { token: ADMIN, body: { mac: '52:54:00:aa:bb:cc', name: 'Spare', group: 'lab3' } })).status, 200);
  assert.equal((await call(ADMIN_ROUTES.forgetMac, { params: { mac: macPathParam('52:54:00:aa:bb:cc') }, token: ADMIN })).status, 204);
  refused(await call(ADMIN_ROUTES.forgetMac, { params: { mac: macPathParam('52:54:00:aa:bb:cc') }, token: ADMIN }), 404, 'not-found');
  assert.equal((await call(ADMIN_ROUTES.deleteGroup, { params: { name: 'lab3' }, token: ADMIN })).status, 204, 'the group its registration made');
  assert.ok(FLEET_ROUTES.enrol.path.startsWith(FLEET_PREFIX));
});

test('fleet routes: a check-in with the kiosk\'s update status, and one without the field (a kiosk of before updates), are both taken; the admin API shows it', async () => {
  const { enrolment, credential } = await enrolled(6);
  const rolledBack = updateStatus((u) => {
    u.lastTrial = { version: '2026.04', slot: 'b', outcome: 'rolled-back', detail: 'the kiosk was not ready after 300 s', at: '2026-03-02T07:40:00.000Z' };
  });
  assert.equal((await call(FLEET_ROUTES.checkIn, { token: credential, body: checkInBody((b) => { b.update = rolledBack; }) })).status, 200);
  const detail = KioskDetail.parse((await call(ADMIN_ROUTES.kiosk, { params: { id: enrolment.kioskId }, token: ADMIN })).body);
  assert.deepEqual(detail.update, rolledBack);
  let summary = KioskList.parse((await call(ADMIN_ROUTES.kiosks, { token: ADMIN })).body).kiosks.find((k) => k.id === enrolment.kioskId);
  assert.deepEqual(summary?.update?.lastTrial, { version: '2026.04', outcome: 'rolled-back', at: '2026-03-02T07:40:00.000Z' });

  // The JSON an older kiosk sends: no "update" key at all.
  const older: Record<string, unknown> = { ...checkInBody() };
  delete older.update;
  assert.equal((await call(FLEET_ROUTES.checkIn, { token: credential, body: older })).status, 200);
  summary = KioskList.parse((await call(ADMIN_ROUTES.kiosks, { token: ADMIN })).body).kiosks.find((k) => k.id === enrolment.kioskId);
  assert.equal(summary?.update, null);
});

test('fleet routes: an update status that breaks the contract is 400 with a sentence naming the field, and the kiosk\'s last status stays', async () => {
  const { enrolment, credential } = await enrolled(7);
  const good = updateStatus((u) => { u.phase = 'writing'; u.percent = 10; u.targetVersion = '2026.04'; });
  assert.equal((await call(FLEET_ROUTES.checkIn, { token: credential, body: checkInBody((b) => { b.update = good; }) })).status, 200);
  const invalidBefore = sample(await registry.metrics(), 'thinkiosk_fleet_check_ins_total', { result: 'invalid' }) ?? 0;
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...good, percent: 142 }, /^The request is incomplete or wrong: update\.percent /],
    [{ ...good, phase: 'flashing' }, /^The request is incomplete or wrong: update\.phase /],
    [{ ...good, bootedSlot: 'c' }, /^The request is incomplete or wrong: update\.bootedSlot /],
    [{ ...good, lastTrial: { ...good, outcome: 'maybe' } }, /^The request is incomplete or wrong: update\.lastTrial\./],
    [{ ...good, message: 'line one\u001b[31m' }, /^The request is incomplete or wrong: update\.message must not hold control characters/],
  ];
  for (const [update, expected] of cases) {
    const message = refused(await call(FLEET_ROUTES.checkIn, { token: credential, body: { ...checkInBody(), update } }), 400, 'bad-request');
    assert.match(message, expected, JSON.stringify(update));
  }
  assert.equal(sample(await registry.metrics(), 'thinkiosk_fleet_check_ins_total', { result: 'invalid' }), invalidBefore + cases.length);
  const detail = KioskDetail.parse((await call(ADMIN_ROUTES.kiosk, { params: { id: enrolment.kioskId }, token: ADMIN })).body);
  assert.deepEqual(detail.update, good, 'a refused check-in changes nothing');
});
