/**
 * The kiosk's update state in its check-ins (issue 12): the fleet agent (app/core/fleet/fleet-agent.ts)
 * asks its updateStatus provider at each check-in, fills the inventory's slot from it, and sends it
 * to the real controller (static backend, the fleet in SQLite in a fresh stateDir, over HTTP on
 * 127.0.0.1:16324), whose admin API then shows it. A provider that throws or answers what breaks
 * the contract costs the status, never the check-in. The provider itself is a stand-in, named as
 * such, for the update agent the other branch builds: a function answering what the test sets.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KioskDetail, KioskList } from '../../contract/fleet-admin.js';
import { ADMIN_ROUTES } from '../../contract/routes.js';
import type { UpdateStatus } from '../../contract/update-status.js';
import { hashPassword } from '../../controller/core/password-hash.js';
import { fleetAgent } from '../support/fleet-agent.js';
import { updateStatus } from '../support/fleet-scenarios.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';

let work: string;
let ctl: StaticController;
let adminToken: string;
let siteToken: string;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-fleet-update-status-'));
  const ada = await hashPassword('ada-admin-pw');
  ctl = await startStaticController({
    workDir: mkdtempSync(path.join(work, 'ctl-')), stateDir: path.join(work, 'state'), port: 16324,
    inventory: `users: [{ name: ada, password: "${ada}", admin: true }]\ndesktops: []\n`,
  });
  adminToken = await ctl.login('ada', 'ada-admin-pw');
  const made = await ctl.call(ADMIN_ROUTES.newSiteToken, { token: adminToken, body: { label: 'update status test' } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  siteToken = made.body.token as string;
});
after(async () => {
  await ctl?.close();
  rmSync(work, { recursive: true, force: true });
});

async function detailOf(name: string): Promise<KioskDetail> {
  const list = KioskList.parse((await ctl.call(ADMIN_ROUTES.kiosks, { token: adminToken })).body);
  const kiosk = list.kiosks.find((k) => k.name === name);
  assert.ok(kiosk, `${name} is in the fleet`);
  return KioskDetail.parse((await ctl.call(ADMIN_ROUTES.kiosk, { params: { id: kiosk.id }, token: adminToken })).body);
}

test('[kiosk] fleet agent: the update agent\'s status goes into every check-in; the inventory\'s slot is the status\'s booted slot; the admin API shows the trial that rolled back', async () => {
  let current: UpdateStatus | null = updateStatus((u) => {
    u.bootedSlot = 'b';
    u.committedSlot = 'b';
    u.phase = 'writing';
    u.targetVersion = '2026.04';
    u.source = 'fleet';
    u.percent = 42;
    u.message = 'writing slot a: 1.2 of 2.9 GiB';
  });
  const k = fleetAgent({ parentDir: work, mac: 'dc:a6:32:07:00:01', preset: { controllerUrl: ctl.url }, fleetToken: siteToken, more: { updateStatus: async () => current } });
  try {
    assert.equal(await k.agent.checkInNow(), 'checked-in');
    let detail = await detailOf('lab3-kiosk-07');
    assert.deepEqual(detail.update, current);
    assert.equal(detail.inventory?.slot, 'b', 'the slot as the update agent read it');
    assert.deepEqual(detail.summary.update, { runningVersion: '2026.03', phase: 'writing', percent: 42, targetVersion: '2026.04', lastTrial: null });

    current = updateStatus((u) => {
      u.lastTrial = { version: '2026.04', slot: 'b', outcome: 'rolled-back', detail: 'the kiosk was not ready after 300 s', at: '2026-03-02T07:40:00.000Z' };
    });
    assert.equal(await k.agent.checkInNow(), 'checked-in');
    detail = await detailOf('lab3-kiosk-07');
    assert.equal(detail.update?.lastTrial?.outcome, 'rolled-back');
    assert.equal(detail.update?.lastTrial?.detail, 'the kiosk was not ready after 300 s');
    assert.equal(detail.inventory?.slot, 'a');

    // Outside an A/B image the update agent has nothing to say.
    current = null;
    assert.equal(await k.agent.checkInNow(), 'checked-in');
    detail = await detailOf('lab3-kiosk-07');
    assert.equal(detail.update, null);
    assert.equal(detail.inventory?.slot, null, 'the inventory\'s own reading (none on this tree)');
  } finally {
    await k.agent.close();
  }
});

test('[kiosk] fleet agent: an update status that throws or breaks the contract goes as none, is logged once, and the check-in still happens', async () => {
  let provider: () => Promise<UpdateStatus | null> = async () => { throw new Error('/run/thinkiosk/update/status.json: unexpected end of JSON input'); };
  const k = fleetAgent({ parentDir: work, mac: 'dc:a6:32:07:00:02', preset: { controllerUrl: ctl.url }, fleetToken: siteToken, more: { updateStatus: () => provider() } });
  try {
    assert.equal(await k.agent.checkInNow(), 'checked-in');
    assert.equal(await k.agent.checkInNow(), 'checked-in');
    const broken = k.logs.filter((line) => line.includes('update status'));
    assert.deepEqual(broken, ['warn fleet: the update status could not be read: /run/thinkiosk/update/status.json: unexpected end of JSON input; the check-in goes without it'], 'once, not at every check-in');
    const name = k.agent.status().name!;
    assert.equal((await detailOf(name)).update, null);

    // A status the controller would refuse (percent 142) would cost the whole check-in: it goes as none instead.
    provider = async () => ({ ...updateStatus(), percent: 142 });
    assert.equal(await k.agent.checkInNow(), 'checked-in');
    assert.match(k.logs.at(-1) ?? '', /^warn fleet: the update status breaks the contract \(percent Too big: expected number to be <=100\); the check-in goes without it$/);

    const good = updateStatus((u) => { u.phase = 'trial'; u.targetVersion = '2026.04'; u.message = 'on trial: waiting for the kiosk to be ready and the controller to answer (4 min left)'; });
    provider = async () => good;
    assert.equal(await k.agent.checkInNow(), 'checked-in');
    assert.equal(k.logs.filter((line) => line.includes('update status')).at(-1), 'info fleet: the update status is readable again');
    assert.deepEqual((await detailOf(name)).update, good);
  } finally {
    await k.agent.close();
  }
});
