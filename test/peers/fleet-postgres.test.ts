/**
 * The fleet service on a real PostgreSQL (the database several controller instances share): every
 * shared scenario (test/support/fleet-scenarios.ts) on a database of its own, then two services on
 * one database at once, as two instances behind a load balancer. Port 16310 is this file's (the
 * range 16310-16319 is the fleet's).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ADMIN, checkInBody, fleetWorld, hardware, runFleetScenarios, sample } from '../support/fleet-scenarios.js';
import { postgresBinDir, startPostgres, type Postgres } from '../support/postgres.js';

const PORT = 16310;
const found = postgresBinDir();
const skip = 'missing' in found ? found.missing : false;

let postgres: Postgres | undefined;
let databases = 0;

before(async () => {
  if (!skip) postgres = await startPostgres({ port: PORT });
});
after(async () => {
  await postgres?.stop();
});

runFleetScenarios('postgres', () => postgres!.createDatabase(`fleet_${++databases}`), { skip });

test('[postgres] two instances on one database: both migrate at once, and what one is told the other knows', { skip }, async () => {
  const world = await fleetWorld(await postgres!.createDatabase('fleet_shared'));
  try {
    const registry = new Registry();
    // Both start together on an empty database: the migrator's lock makes one wait for the other.
    const [first, second] = await Promise.all([world.open({ registry }), world.open()]);
    const { token } = await first.makeSiteToken(ADMIN, 'lab 3');
    const enrolment = await second.enrol({ siteToken: token, hardware: hardware(1, 'lab3-pc01') }, '10.0.3.21');
    const kiosk = await first.authenticateKiosk(`${enrolment.kioskId}.${enrolment.secret}`);

    const command = await first.issueCommand(ADMIN, kiosk.id, 'identify');
    const reply = await second.checkIn(kiosk, checkInBody());
    assert.deepEqual(reply.commands.map((c) => c.id), [command.id], 'a command issued on one instance reaches a check-in on the other');
    await first.checkIn(kiosk, checkInBody((b) => { b.acks = [{ id: command.id, outcome: 'done', at: '2026-03-02T08:00:05.000Z' }]; }));
    assert.equal((await second.kioskDetail(kiosk.id)).commands[0]!.state, 'done');

    // The same command issued on both at once: one waits, the other is told so.
    const both = await Promise.allSettled([first.issueCommand(ADMIN, kiosk.id, 'reboot'), second.issueCommand(ADMIN, kiosk.id, 'reboot')]);
    assert.deepEqual(both.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    // Two administrators changing the site's settings at once: both changes land.
    await Promise.all([first.changeSiteSettings(ADMIN, { language: 'zh-CN' }), second.changeSiteSettings(ADMIN, { idle_logout_minutes: '10' })]);
    assert.deepEqual((await first.layers()).site, { language: 'zh-CN', idle_logout_minutes: '10' });
    // Two boxes with one host name enrolling at once on the two instances get two names.
    const names = await Promise.all([
      first.enrol({ siteToken: token, hardware: hardware(2, 'raspberrypi') }, '10.0.3.22'),
      second.enrol({ siteToken: token, hardware: hardware(3, 'raspberrypi') }, '10.0.3.23'),
    ]);
    assert.deepEqual(names.map((e) => e.name).sort(), ['raspberrypi', 'raspberrypi-2']);

    assert.equal(sample(await registry.metrics(), 'thinkiosk_fleet_kiosks', { state: 'online', version: '2026.03' }), 1, 'the fleet as the store has it');
  } finally {
    await world.closeAll();
  }
});
