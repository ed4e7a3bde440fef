/**
 * The kiosk's self-healing (app/core/fleet/healing.ts): the start journal and what it makes of
 * starts without a clean stop (crashes, a crash loop and its repair), a settings partition that is
 * full (a real 4 MiB tmpfs this test mounts, as root, and unmounts), a wrong clock, a controller
 * that stops answering (and the agent going back to the last address that worked: the real static
 * controller on 127.0.0.1:16323, nothing on :16321), and under-voltage told once a boot.
 *
 * Stand-ins, named as such: the clock (a time the test sets) and the clock setter.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Repair, type Inventory } from '../../contract/fleet.js';
import { FleetFiles } from '../../app/core/fleet/fleet-files.js';
import { freeBytes, Healing } from '../../app/core/fleet/healing.js';
import { decodeThrottled } from '../../app/core/fleet/throttling.js';
import { fleetAgent } from '../support/fleet-agent.js';
import { startStaticController, type StaticController } from '../support/static-harness.js';

const NOBODY = 'http://127.0.0.1:16321';
let work: string;
let ctl: StaticController;

before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'thinkiosk-fleet-healing-'));
  ctl = await startStaticController({ workDir: mkdtempSync(path.join(work, 'ctl-')), port: 16323, inventory: 'users: []\ndesktops: []\n' });
});
after(async () => {
  await ctl?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Stand-in clock: the time is what the test says. */
class StandInClock {
  constructor(public time: Date) {}
  now = (): Date => new Date(this.time);
  advance(ms: number): void {
    this.time = new Date(this.time.getTime() + ms);
  }
}

function healingIn(settingsDir: string, clock: StandInClock, bootId: string | null, more: Partial<ConstructorParameters<typeof Healing>[0]> = {}): Healing {
  return new Healing({ files: new FleetFiles(settingsDir), settingsFile: path.join(settingsDir, 'settings.json'), bootId, now: clock.now, log: () => undefined, ...more });
}

const repairs = (dir: string): Repair[] => new FleetFiles(dir).readOutbox().repairs.map((repair) => Repair.parse(repair));

test('[kiosk] fleet healing: the start journal — a start after no clean stop in the same boot followed a crash; in another boot, a power loss; asked-for restarts are restarts, not crashes', () => {
  const dir = mkdtempSync(path.join(work, 'journal-'));
  const clock = new StandInClock(new Date('2026-12-06T08:00:00Z'));
  const first = healingIn(dir, clock, 'boot-a');
  assert.deepEqual(first.recordStart(), { crashed: false, safeStart: false });
  first.recordStop(false);
  clock.advance(60_000);
  const second = healingIn(dir, clock, 'boot-a');
  second.recordStart();
  clock.advance(30_000);
  second.alive();
  clock.advance(60_000);
  // second never stopped: a crash, last seen at its alive() time.
  const third = healingIn(dir, clock, 'boot-a');
  assert.deepEqual(third.recordStart(), { crashed: true, safeStart: false });
  third.recordStop(true);
  clock.advance(60_000);
  const fourth = healingIn(dir, clock, 'boot-a');
  fourth.recordStart();
  clock.advance(60_000);
  // fourth never stopped either, but the box booted again: no crash of the app.
  const fifth = healingIn(dir, clock, 'boot-b');
  assert.deepEqual(fifth.recordStart(), { crashed: false, safeStart: false });
  const health = fifth.health();
  assert.deepEqual({ restarts: health.restarts, crashes: health.crashes }, { restarts: 4, crashes: 1 });
  assert.deepEqual(health.lastCrash, { at: '2026-12-06T08:01:30.000Z', reason: 'the kiosk app ended without stopping cleanly (a crash, or it was killed)' });
  // Told at a check-in: the next one starts counting afresh.
  fifth.reported(health, clock.now());
  assert.deepEqual({ restarts: fifth.health().restarts, crashes: fifth.health().crashes }, { restarts: 0, crashes: 0 });
});

test('[kiosk] fleet healing: three crashes in ten minutes — back to the known-good settings, the fleet\'s stored settings left out, caches dropped, and a repair to tell', () => {
  const dir = mkdtempSync(path.join(work, 'loop-'));
  const clock = new StandInClock(new Date('2026-12-06T08:00:00Z'));
  writeFileSync(path.join(dir, 'settings.json'), '{"language":"en","idleLogoutSeconds":900}');
  const good = healingIn(dir, clock, 'boot-a');
  good.recordStart();
  clock.advance(11 * 60_000);
  good.alive(); // up for more than ten minutes: these settings are worth going back to
  good.recordStop(false);
  // Then settings that make the app crash at once, three times within a few minutes.
  writeFileSync(path.join(dir, 'settings.json'), '{"language":"en","idleLogoutSeconds":"broken"}');
  mkdirSync(path.join(dir, 'cache'));
  writeFileSync(path.join(dir, 'cache', 'page-state'), 'x'.repeat(10_000));
  let outcome = { crashed: false, safeStart: false };
  for (let start = 0; start < 4; start++) {
    clock.advance(60_000);
    outcome = healingIn(dir, clock, 'boot-a').recordStart();
  }
  assert.deepEqual(outcome, { crashed: true, safeStart: true });
  assert.equal(readFileSync(path.join(dir, 'settings.json'), 'utf8'), '{"language":"en","idleLogoutSeconds":900}');
  assert.ok(!existsSync(path.join(dir, 'cache')));
  const [repair] = repairs(dir);
  assert.equal(repair?.fault, 'crash-loop');
  assert.equal(repair?.detail, 'the kiosk app ended without a clean stop 3 times in 10 minutes');
  assert.match(repair?.action ?? '', /^went back to the settings of the last run that lasted ten minutes; left the fleet's stored settings out until the controller answers; dropped \d+ KiB of caches$/);
});

test('[kiosk] fleet healing: a full settings partition (a real tmpfs) — what the kiosk can rebuild is deleted, its settings and credential are not, and the bytes freed are told', (t) => {
  const mountPoint = mkdtempSync(path.join(work, 'tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mountPoint]);
  t.after(() => execFileSync('umount', [mountPoint]));
  const dir = path.join(mountPoint, 'settings');
  mkdirSync(path.join(dir, 'fleet'), { recursive: true });
  writeFileSync(path.join(dir, 'settings.json'), '{"language":"zh-CN"}');
  writeFileSync(path.join(dir, 'fleet', 'credential.json'), '{}');
  mkdirSync(path.join(dir, 'rdp', 'freerdp'), { recursive: true });
  writeFileSync(path.join(dir, 'rdp', 'freerdp', 'known_hosts2'), 'lab3-pc07 3389 ab:cd\n');
  for (const name of ['cache', 'logs', 'screenshots']) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'old'), Buffer.alloc(1024 * 1024, 1));
  }
  writeFileSync(path.join(dir, 'settings.json.999999.tmp'), Buffer.alloc(512 * 1024, 1)); // a write killed half-way
  const before = freeBytes(dir)!;
  assert.ok(before < 1024 * 1024, `the partition is nearly full (${before} bytes free)`);

  const clock = new StandInClock(new Date('2026-12-06T08:00:00Z'));
  const healing = healingIn(dir, clock, 'boot-a', { minFreeBytes: 2 * 1024 * 1024 });
  healing.checkSpace();
  assert.ok(freeBytes(dir)! >= 3 * 1024 * 1024, 'about 3.5 MiB freed');
  for (const kept of ['settings.json', 'fleet/credential.json', 'rdp/freerdp/known_hosts2']) assert.ok(existsSync(path.join(dir, kept)), `${kept} kept`);
  for (const gone of ['cache', 'logs', 'screenshots', 'settings.json.999999.tmp']) assert.ok(!existsSync(path.join(dir, gone)), `${gone} deleted`);
  const [repair] = repairs(dir);
  assert.equal(repair?.fault, 'settings-full');
  assert.equal(repair?.repaired, true);
  assert.equal(repair?.action, 'deleted 3.5 MiB of the kiosk\'s caches, logs, screenshots and leftover temporary files');
  assert.match(repair?.detail ?? '', /^the settings partition had \d+ KiB free \(less than 2 MiB\)$/);
  // Enough space again: nothing more is told.
  healing.checkSpace();
  assert.equal(repairs(dir).length, 1);
});

test('[kiosk] fleet healing: a clock more than five minutes off the controller\'s (stand-in clock) is told once, with what to check; a clock setter, where the kiosk may, sets it', async () => {
  const dir = mkdtempSync(path.join(work, 'clock-'));
  const clock = new StandInClock(new Date('2026-12-06T08:07:00Z'));
  const healing = healingIn(dir, clock, 'boot-a');
  const server = new Date('2026-12-06T08:00:00Z');
  await healing.checkClock(new Date(server.getTime() + 4 * 60_000), clock.now(), clock.now()); // 3 minutes: fine
  assert.equal(repairs(dir).length, 0);
  await healing.checkClock(server, clock.now(), clock.now());
  await healing.checkClock(server, clock.now(), clock.now()); // still off: told once
  assert.deepEqual(repairs(dir).map((r) => [r.fault, r.detail, r.action, r.repaired]), [
    ['clock-wrong', 'the kiosk\'s clock is 7 minutes ahead of the controller\'s; the kiosk may not set it: check that the network\'s time server (NTP) is reachable', null, false],
  ]);

  const set: Date[] = [];
  const settable = healingIn(mkdtempSync(path.join(work, 'clock-')), clock, 'boot-a', { setClock: async (to) => void set.push(to) });
  await settable.checkClock(new Date('2026-12-06T10:07:00Z'), clock.now(), clock.now());
  assert.deepEqual(set, [new Date('2026-12-06T10:07:00Z')]);
});

test('[kiosk] fleet healing: a controller that stops answering is told when it answers again; under-voltage is told once a boot, with the advice', () => {
  const dir = mkdtempSync(path.join(work, 'outage-'));
  const clock = new StandInClock(new Date('2026-12-06T08:00:00Z'));
  const healing = healingIn(dir, clock, 'boot-a');
  for (let i = 0; i < 4; i++) {
    healing.controllerFailed('https://ctl.example/', clock.now());
    clock.advance(60_000);
  }
  healing.controllerAnswered('https://ctl.example/', clock.now(), null);
  const inventory = { throttling: decodeThrottled(0x50005) } as Inventory;
  healing.observeInventory(inventory);
  healing.observeInventory(inventory);
  healingIn(dir, clock, 'boot-a').observeInventory(inventory); // the app restarted: same boot, not told again
  assert.deepEqual(repairs(dir).map((r) => [r.fault, r.detail, r.action, r.repaired]), [
    ['controller-unreachable', 'the controller at https://ctl.example/ did not answer 4 check-ins from 2026-12-06T08:00:00.000Z to 2026-12-06T08:04:00.000Z', 'ran on the last good settings', true],
    ['under-voltage', 'the Raspberry Pi\'s supply voltage was too low (now, and it throttled itself): use the official power supply', null, false],
  ]);
});

test('[kiosk] fleet agent: moved by the fleet to an address that does not answer, the kiosk goes back to the last address that worked after three failed check-ins', async () => {
  const k = fleetAgent({
    parentDir: work, preset: { controllerUrl: NOBODY },
    prepare: (files) => files.updateState({ lastWorkingController: `${ctl.url}/` }),
  });
  assert.equal(await k.agent.checkInNow(), 'failed');
  assert.equal(await k.agent.checkInNow(), 'failed');
  assert.equal(k.settings.read().controllerUrl, NOBODY, 'two failures: still trying');
  assert.equal(await k.agent.checkInNow(), 'failed');
  assert.equal(k.settings.read().controllerUrl, `${ctl.url}/`);
  assert.equal(k.files.readState().abandonedController?.url, `${NOBODY}/`);
  assert.equal(k.agent.status().state, 'enrolling');
  assert.match(k.agent.status().problem ?? '', /cannot be reached/);
  await k.agent.close();
});

test('[kiosk] fleet agent: a controller without a fleet (today\'s static controller answers 404) is asked again only every few minutes, and the admin screen says why', async () => {
  const k = fleetAgent({ parentDir: work, preset: { controllerUrl: ctl.url } });
  assert.equal(await k.agent.checkInNow(), 'not-registered');
  const view = (await k.service.call('state', {}) as { ok: true; value: { fleet: unknown } }).value.fleet;
  assert.deepEqual(view, { state: 'not-registered', name: null, controller: `${ctl.url}/`, lastCheckIn: null, problem: `The controller at ${ctl.url}/ has no fleet (an older version).`, revision: null });
  assert.equal(k.files.readCredential(), null);
  await k.agent.close();
});
