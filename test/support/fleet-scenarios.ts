/**
 * The fleet service's scenarios, written once and run on every database it supports: SQLite files
 * (test/unit/fleet-service.test.ts) and a real PostgreSQL (test/peers/fleet-postgres.test.ts). Each
 * scenario gets an empty database of its own and a stand-in clock; every reply is checked against
 * the contract's schema, so a reply the kiosk or the admin page would refuse fails here.
 */
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { CheckIn, CheckInReply, Enrolment, type EnrolRequest } from '../../contract/fleet.js';
import { AuditLog, CommandRecord, Enrolments, Group, KioskDetail, KioskList, Layers } from '../../contract/fleet-admin.js';
import { parseScryptHash, verifyScryptHash } from '../../contract/scrypt-hash.js';
import { ApiError } from '../../controller/core/api-error.js';
import { FleetConfig, fleetDatabase } from '../../controller/fleet/config.js';
import { connectFleetDatabase, migrateFleetDatabase } from '../../controller/fleet/database.js';
import { UpdateStatus } from '../../contract/update-status.js';
import type { Logger } from '../../controller/core/log.js';
import { FleetService, type KioskIdentity } from '../../controller/fleet/service.js';

/** Time as the test says: the service's clock, moved by hand. */
export interface StandInClock {
  (): Date;
  advance(seconds: number): void;
}

export function standInClock(start = '2026-03-02T08:00:00.000Z'): StandInClock {
  let now = new Date(start).getTime();
  const clock = (() => new Date(now)) as StandInClock;
  clock.advance = (seconds) => { now += seconds * 1000; };
  return clock;
}

export interface FleetWorld {
  /** This scenario's own empty database (sqlite:... or postgres://...). */
  database: string;
  clock: StandInClock;
  /** A service on this scenario's database; several may be open at once. Closed after the scenario. */
  open(options?: { registry?: Registry; config?: Partial<FleetConfig>; logger?: Logger }): Promise<FleetService>;
}

export interface FleetScenario { name: string; run(world: FleetWorld): Promise<void> }

export const ADMIN = { user: 'ada' };
export const OTHER_ADMIN = { user: 'grace' };

/** Hardware of box number n: its own MAC and host name. */
export function hardware(n: number, hostname = `kiosk-${n}`): EnrolRequest['hardware'] {
  const octet = n.toString(16).padStart(2, '0');
  return { macs: [`52:54:00:00:00:${octet}`], hostname, board: 'Raspberry Pi 4 Model B Rev 1.5' };
}

/** A check-in as a healthy kiosk sends it; `change` edits a copy. */
export function checkInBody(change: (body: CheckIn) => void = () => {}): CheckIn {
  const body: CheckIn = {
    kioskVersion: '0.1.0',
    inventory: {
      hostname: 'kiosk-1', macs: ['52:54:00:00:00:01'], addresses: [{ iface: 'eth0', address: '10.0.3.21' }], board: 'Raspberry Pi 4 Model B Rev 1.5',
      imageVersion: '2026.03', slot: null, uptimeSeconds: 3600, bootSeconds: 21.5, temperatureC: 48.5, throttling: null,
      displays: [{ name: 'HDMI-A-1', width: 1920, height: 1080 }], usb: [],
    },
    session: null,
    health: { restarts: 0, crashes: 0, lastCrash: null, repairs: [] },
    applied: null,
    acks: [],
    update: null,
  };
  change(body);
  return CheckIn.parse(body);
}

/** An update agent's status as a kiosk on an A/B image reports it; `change` edits a copy. */
export function updateStatus(change: (status: UpdateStatus) => void = () => {}): UpdateStatus {
  const status: UpdateStatus = {
    runningVersion: '2026.03', bootedSlot: 'a', committedSlot: 'a', phase: 'idle', targetVersion: null, source: null, percent: null,
    message: null, lastTrial: null, updatedAt: '2026-03-02T07:59:00.000Z',
  };
  change(status);
  return UpdateStatus.parse(status);
}

/** The ApiError `promise` rejects with (failing when it resolves). */
export async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  assert.fail('expected a refusal');
}

/** A logger that keeps what it is told, as [event, fields]. */
export function recordingLogger(): Logger & { lines: Array<[string, Record<string, unknown>]> } {
  const lines: Array<[string, Record<string, unknown>]> = [];
  return { lines, log: (_level, event, fields = {}) => { lines.push([event, fields]); } };
}

/** A Prometheus sample's value from exposition text (labels in any order), or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(/,(?=[a-z_]+=")/).filter(Boolean).sort().join(',');
    if (have === want) return Number(m[3]);
  }
  return undefined;
}

async function enrolByToken(service: FleetService, n: number, hostname?: string): Promise<{ enrolment: Enrolment; kiosk: KioskIdentity }> {
  const { token } = await service.makeSiteToken(ADMIN, `box ${n}`);
  const enrolment = Enrolment.parse(await service.enrol({ siteToken: token, hardware: hardware(n, hostname) }, '10.0.3.1'));
  return { enrolment, kiosk: await service.authenticateKiosk(`${enrolment.kioskId}.${enrolment.secret}`) };
}

export const FLEET_SCENARIOS: FleetScenario[] = [
  {
    name: 'a box enrols with a site token; its credential opens check-ins, a wrong one does not',
    async run({ open }) {
      const logger = recordingLogger();
      const service = await open({ logger });
      const made = await service.makeSiteToken(ADMIN, 'Lab 3 card images');
      assert.match(made.token, /^[A-Za-z0-9_-]{43}$/, 'a token a preset line can hold (fleet_token)');
      const enrolment = Enrolment.parse(await service.enrol({ siteToken: made.token, hardware: hardware(1, 'lab3-pc07') }, '10.0.3.7'));
      assert.equal(enrolment.name, 'lab3-pc07');
      assert.equal(enrolment.checkInSeconds, 60);
      const kiosk = await service.authenticateKiosk(`${enrolment.kioskId}.${enrolment.secret}`);
      assert.deepEqual(kiosk, { id: enrolment.kioskId, name: 'lab3-pc07' });
      assert.deepEqual(logger.lines, [['fleet-enrolment', { kiosk: 'lab3-pc07', kioskId: enrolment.kioskId, from: '10.0.3.7', enrolledBy: 'site token "Lab 3 card images"', reEnrolled: false }]]);
      assert.ok(!JSON.stringify(logger.lines).includes(enrolment.secret), 'the secret is never logged');
      for (const wrong of [undefined, '', enrolment.kioskId, `${enrolment.kioskId}.${enrolment.secret}x`, `${enrolment.kioskId}.${enrolment.secret}.x`, `00000000-0000-4000-8000-000000000000.${enrolment.secret}`]) {
        const error = await refusal(service.authenticateKiosk(wrong));
        assert.equal(error.status, 401, String(wrong));
      }
      const listed = Enrolments.parse(await service.enrolments());
      assert.deepEqual(listed.tokens.map((t) => [t.label, t.createdBy]), [['Lab 3 card images', 'ada']]);
      assert.ok(!JSON.stringify(listed).includes(made.token), 'the token itself is shown once only');
    },
  },
  {
    name: 'a registered MAC enrols without a token, with the name and group it was registered with',
    async run({ open }) {
      const service = await open();
      await service.registerMac(ADMIN, { mac: '52:54:00:00:00:02', name: 'Front desk', group: 'reception' });
      const enrolment = await service.enrol({ hardware: { ...hardware(2, 'raspberrypi'), macs: ['52:54:00:99:99:99', '52:54:00:00:00:02'] } }, '10.0.3.8');
      assert.equal(enrolment.name, 'Front desk');
      const detail = KioskDetail.parse(await service.kioskDetail(enrolment.kioskId));
      assert.equal(detail.summary.group, 'reception');
      assert.deepEqual(Layers.parse(await service.layers()).groups, [{ name: 'reception', settings: {}, kiosks: 1, versions: [{ version: 'unknown', kiosks: 1 }] }]);
    },
  },
  {
    name: 'an unknown box is refused with what an administrator can do; so is a deleted token',
    async run({ open }) {
      const logger = recordingLogger();
      const service = await open({ logger });
      const unknown = await refusal(service.enrol({ hardware: hardware(3) }, '10.0.3.9'));
      assert.equal(unknown.status, 403);
      assert.equal(unknown.userMessage, 'This kiosk is not registered with the controller: an administrator registers its MAC address (52:54:00:00:00:03) or gives it a site token (preset key fleet_token).');
      assert.deepEqual(logger.lines, [['fleet-enrolment-refused', { from: '10.0.3.9', macs: ['52:54:00:00:00:03'], hostname: 'kiosk-3', token: 'none' }]]);
      const made = await service.makeSiteToken(ADMIN, 'old');
      const { enrolment } = await enrolByToken(service, 4);
      await service.deleteSiteToken(ADMIN, made.id);
      const deleted = await refusal(service.enrol({ siteToken: made.token, hardware: hardware(5) }, '10.0.3.9'));
      assert.equal(deleted.status, 403);
      assert.match(deleted.userMessage, /site token \(preset key fleet_token\) is not known to the controller/);
      await service.authenticateKiosk(`${enrolment.kioskId}.${enrolment.secret}`); // kiosks enrolled before keep their credential
      assert.equal((await refusal(service.deleteSiteToken(ADMIN, made.id))).status, 404);
      // A registration taken back no longer lets the box in.
      await service.registerMac(ADMIN, { mac: '52:54:00:00:00:06', name: null, group: null });
      await service.forgetMac(ADMIN, '52:54:00:00:00:06');
      assert.equal((await refusal(service.enrol({ hardware: hardware(6) }, '10.0.3.9'))).status, 403);
    },
  },
  {
    name: 're-enrolling a box (a re-flashed card) gives it its old record and a new secret once the old card is silent; the old secret stops working',
    async run({ open, clock }) {
      const service = await open();
      const { enrolment: first, kiosk } = await enrolByToken(service, 7, 'lab3-pc07');
      await service.updateKiosk(ADMIN, kiosk.id, { name: 'Lab 3 PC 7', group: 'lab3', settings: { language: 'zh-CN' } });
      await service.checkIn(kiosk, checkInBody());
      const { token } = await service.makeSiteToken(ADMIN, 'new card');
      // While the kiosk still checks in, a box showing its MAC does not get its record.
      const early = await refusal(service.enrol({ siteToken: token, hardware: hardware(7, 'raspberrypi') }, '10.0.3.99'));
      assert.equal(early.status, 409);
      assert.match(early.userMessage, /Another kiosk with this MAC address \(Lab 3 PC 7\) is still checking in/);
      assert.equal((await service.authenticateKiosk(`${first.kioskId}.${first.secret}`)).id, kiosk.id, 'the working kiosk keeps its credential');
      clock.advance(60 * 2.2 + 1);
      const second = await service.enrol({ siteToken: token, hardware: hardware(7, 'raspberrypi') }, '10.0.3.7');
      assert.equal(second.kioskId, first.kioskId, 'the same kiosk');
      assert.equal(second.name, 'Lab 3 PC 7', 'with its name');
      assert.notEqual(second.secret, first.secret);
      assert.equal((await refusal(service.authenticateKiosk(`${first.kioskId}.${first.secret}`))).status, 401, 'the old card\'s secret');
      const again = await service.authenticateKiosk(`${second.kioskId}.${second.secret}`);
      const detail = await service.kioskDetail(again.id);
      assert.equal(detail.summary.group, 'lab3');
      assert.deepEqual(detail.ownSettings, { language: 'zh-CN' });
      assert.equal(KioskList.parse(await service.listKiosks()).kiosks.length, 1);
      const audit = (await service.auditLog()).entries;
      assert.equal(audit[0]!.action, 're-enrol');
      assert.match(audit[0]!.detail, /earlier credential no longer works/);
    },
  },
  {
    name: 'names stay unique: boxes with one host name get -2, -3; a host name that is no kiosk name is cleaned',
    async run({ open }) {
      const service = await open();
      const names = [];
      for (const n of [10, 11, 12]) names.push((await enrolByToken(service, n, 'raspberrypi')).enrolment.name);
      assert.deepEqual(names, ['raspberrypi', 'raspberrypi-2', 'raspberrypi-3']);
      assert.equal((await enrolByToken(service, 13, '--lab/3:pc"7')).enrolment.name, 'lab-3-pc-7');
      const { kiosk } = await enrolByToken(service, 14, 'other');
      const taken = await refusal(service.updateKiosk(ADMIN, kiosk.id, { name: 'raspberrypi-2' }));
      assert.equal(taken.status, 409);
      assert.equal(taken.userMessage, 'Another kiosk is already called raspberrypi-2. Choose another name.');
    },
  },
  {
    name: 'a check-in is stored and answered: settings, commands, the server\'s time; the fleet table shows it',
    async run({ open, clock }) {
      const service = await open();
      const { kiosk } = await enrolByToken(service, 1);
      const reply = CheckInReply.parse(await service.checkIn(kiosk, checkInBody((b) => {
        b.session = { user: 'alice', desktop: 'Lab PC', protocol: 'rdp', since: '2026-03-02T07:55:00.000Z' };
        b.inventory.throttling = { underVoltage: false, frequencyCapped: false, throttled: false, softTemperatureLimit: false, underVoltageSinceBoot: true, throttledSinceBoot: false };
        b.health = { restarts: 2, crashes: 1, lastCrash: { at: '2026-03-02T07:50:00.000Z', reason: 'renderer gone' }, repairs: [] };
      })));
      assert.equal(reply.kioskId, kiosk.id);
      assert.equal(reply.serverTime, clock().toISOString());
      assert.equal(reply.checkInSeconds, 60);
      assert.deepEqual(reply.commands, []);
      assert.deepEqual(reply.settings.values, {});

      clock.advance(60);
      await service.checkIn(kiosk, checkInBody()); // no crash this time: the last one is still shown
      const [row] = KioskList.parse(await service.listKiosks()).kiosks;
      assert.deepEqual({ ...row!, id: undefined }, {
        id: undefined, name: 'kiosk-1', group: null, state: 'online', lastCheckIn: clock().toISOString(), kioskVersion: '0.1.0', imageVersion: '2026.03',
        hostname: 'kiosk-1', addresses: ['10.0.3.21'], session: null, temperatureC: 48.5, throttled: false,
        lastCrash: { at: '2026-03-02T07:50:00.000Z', reason: 'renderer gone' }, settingsApplied: false, update: null,
      });
      const detail = KioskDetail.parse(await service.kioskDetail(kiosk.id));
      assert.equal(detail.inventory?.displays[0]?.width, 1920);
      assert.equal(detail.health?.restarts, 0, 'the last check-in\'s health');
      assert.equal((await refusal(service.kioskDetail('00000000-0000-4000-8000-000000000000'))).status, 404);
    },
  },
  {
    name: 'settings are layered site → group → kiosk, each value with its source; the revision follows the values',
    async run({ open }) {
      const service = await open();
      const { kiosk } = await enrolByToken(service, 1);
      const values = async () => (await service.checkIn(kiosk, checkInBody())).settings;

      const empty = await values();
      Layers.parse(await service.changeSiteSettings(ADMIN, { language: 'en', idle_logout_minutes: '15', controller: 'https://desktops.example.org' }));
      Group.parse(await service.changeGroupSettings(ADMIN, 'lab3', { idle_logout_minutes: '5', timezone: 'Europe/Berlin' }));
      await service.updateKiosk(ADMIN, kiosk.id, { group: 'lab3', settings: { language: 'zh-CN' } });
      const layered = await values();
      assert.deepEqual(layered.values, { language: 'zh-CN', idle_logout_minutes: '5', controller: 'https://desktops.example.org', timezone: 'Europe/Berlin' });
      assert.deepEqual(layered.sources, { language: 'kiosk', idle_logout_minutes: 'group:lab3', controller: 'site', timezone: 'group:lab3' });
      assert.notEqual(layered.revision, empty.revision);

      // The same value from another layer: a new source, the same revision (nothing to apply).
      await service.changeGroupSettings(ADMIN, 'lab3', { language: 'zh-CN' });
      await service.updateKiosk(ADMIN, kiosk.id, { settings: { language: '' } });
      const same = await values();
      assert.equal(same.sources.language, 'group:lab3');
      assert.equal(same.revision, layered.revision);

      // A kiosk that reports the revision runs its settings.
      await service.checkIn(kiosk, checkInBody((b) => { b.applied = { revision: same.revision, at: '2026-03-02T08:00:00.000Z', keys: { language: 'applied' }, problems: [] }; }));
      assert.equal((await service.listKiosks()).kiosks[0]!.settingsApplied, true);
      await service.changeSiteSettings(ADMIN, { controller: 'https://other.example.org' });
      assert.equal((await service.listKiosks()).kiosks[0]!.settingsApplied, false, 'a change it has not applied yet');
      const detail = KioskDetail.parse(await service.kioskDetail(kiosk.id));
      assert.equal(detail.effective.sources.controller, 'site');
      assert.deepEqual(detail.ownSettings, {});
    },
  },
  {
    name: '"" removes a key from a layer, so the layer below shows through; a deleted group\'s kiosks follow the site',
    async run({ open }) {
      const service = await open();
      const { kiosk } = await enrolByToken(service, 1);
      await service.changeSiteSettings(ADMIN, { language: 'en' });
      await service.changeGroupSettings(ADMIN, 'lab3', { language: 'zh-CN', usb_redirection: 'off' });
      await service.updateKiosk(ADMIN, kiosk.id, { group: 'lab3' });
      const group = Group.parse(await service.changeGroupSettings(ADMIN, 'lab3', { language: '' }));
      assert.deepEqual(group, { name: 'lab3', settings: { usb_redirection: 'off' }, kiosks: 1, versions: [{ version: 'unknown', kiosks: 1 }] });
      let settings = (await service.checkIn(kiosk, checkInBody())).settings;
      assert.deepEqual([settings.values.language, settings.sources.language], ['en', 'site']);

      await service.deleteGroup(ADMIN, 'lab3');
      settings = (await service.checkIn(kiosk, checkInBody())).settings;
      assert.deepEqual(settings.values, { language: 'en' });
      assert.equal((await service.kioskDetail(kiosk.id)).summary.group, null);
      assert.deepEqual((await service.layers()).groups, []);
      assert.equal((await refusal(service.deleteGroup(ADMIN, 'lab3'))).status, 404);
    },
  },
  {
    name: 'an admin PIN typed as digits is stored as its scrypt hash, never as the digits (nor in the audit)',
    async run({ open }) {
      const service = await open();
      const { kiosk } = await enrolByToken(service, 1);
      await service.changeSiteSettings(ADMIN, { admin_pin: ' 482916 ' });
      const stored = (await service.layers()).site.admin_pin!;
      assert.match(stored, /^scrypt\$/);
      const parsed = parseScryptHash(stored);
      assert.ok(typeof parsed !== 'string' && await verifyScryptHash('482916', parsed));
      assert.equal((await service.checkIn(kiosk, checkInBody())).settings.values.admin_pin, stored, 'the kiosk gets the hash');
      // A hash pasted from a kiosk is kept as it is.
      await service.updateKiosk(ADMIN, kiosk.id, { settings: { admin_pin: stored } });
      assert.equal((await service.kioskDetail(kiosk.id)).ownSettings.admin_pin, stored);
      const audit = JSON.stringify(await service.auditLog());
      assert.ok(!audit.includes('482916'));
      assert.match(audit, /set admin_pin/);
    },
  },
  {
    name: 'a wrong value is refused with its preset rule\'s sentence, and nothing of that change is stored',
    async run({ open }) {
      const service = await open();
      const { kiosk } = await enrolByToken(service, 1);
      await service.changeSiteSettings(ADMIN, { language: 'en' });
      const error = await refusal(service.changeSiteSettings(ADMIN, { language: 'de', idle_logout_minutes: '2000', admin_pin: '12', colour: 'blue' }));
      assert.equal(error.status, 400);
      assert.equal(error.kind, 'bad-request');
      for (const sentence of [
        'admin_pin must be 4 to 12 digits',
        'language must be en or zh-CN (got "de")',
        'idle_logout_minutes must be a whole number from 0 (never) to 1440',
        'colour is not a setting a fleet can hand out',
      ]) assert.ok(error.userMessage.includes(sentence), `${sentence} in: ${error.userMessage}`);
      assert.deepEqual((await service.layers()).site, { language: 'en' });
      const forged = await refusal(service.updateKiosk(ADMIN, kiosk.id, { name: 'renamed', settings: { admin_pin: 'scrypt$1$1$1$AAAA$AAAA' } }));
      assert.match(forged.userMessage, /admin_pin has an scrypt N that is not a power of two/);
      assert.equal((await service.kioskDetail(kiosk.id)).summary.name, 'kiosk-1', 'the rename of a refused update is not kept');
    },
  },
  {
    name: 'a command waits for the next check-in and is answered once; one of a kind waits at a time',
    async run({ open }) {
      const service = await open();
      const { kiosk } = await enrolByToken(service, 1);
      const { kiosk: other } = await enrolByToken(service, 2);
      const reboot = CommandRecord.parse(await service.issueCommand(ADMIN, kiosk.id, 'reboot'));
      assert.deepEqual([reboot.state, reboot.issuedBy, reboot.answeredAt], ['pending', 'ada', null]);
      const twice = await refusal(service.issueCommand(OTHER_ADMIN, kiosk.id, 'reboot'));
      assert.equal(twice.status, 409);
      assert.match(twice.userMessage, /A reboot command is already waiting for kiosk-1 \(from ada at .*\); it runs at the kiosk's next check-in\./);
      const identify = await service.issueCommand(OTHER_ADMIN, kiosk.id, 'identify');

      let reply = await service.checkIn(kiosk, checkInBody());
      assert.deepEqual(reply.commands.map((c) => [c.kind, c.issuedBy]), [['reboot', 'ada'], ['identify', 'grace']]);
      assert.deepEqual((await service.checkIn(other, checkInBody())).commands, [], 'not another kiosk\'s');
      // Another kiosk cannot answer it; an unknown id changes nothing.
      await service.checkIn(other, checkInBody((b) => { b.acks = [{ id: reboot.id, outcome: 'failed', at: '2026-03-02T08:00:01.000Z' }]; }));
      reply = await service.checkIn(kiosk, checkInBody((b) => {
        b.acks = [
          { id: reboot.id, outcome: 'done', detail: 'rebooting', at: '2026-03-02T08:00:02.000Z' },
          { id: '00000000-0000-4000-8000-000000000000', outcome: 'done', at: '2026-03-02T08:00:02.000Z' },
        ];
      }));
      assert.deepEqual(reply.commands.map((c) => c.kind), ['identify']);
      // The same ack again (a reply that was lost) and a contradicting one are ignored.
      await service.checkIn(kiosk, checkInBody((b) => { b.acks = [{ id: reboot.id, outcome: 'failed', detail: 'late', at: '2026-03-02T08:00:03.000Z' }, { id: identify.id, outcome: 'failed', detail: 'no display', at: '2026-03-02T08:00:03.000Z' }]; }));
      const commands = KioskDetail.parse(await service.kioskDetail(kiosk.id)).commands;
      assert.deepEqual(commands.map((c) => [c.kind, c.state, c.detail, c.answeredAt]), [
        ['identify', 'failed', 'no display', '2026-03-02T08:00:03.000Z'],
        ['reboot', 'done', 'rebooting', '2026-03-02T08:00:02.000Z'],
      ]);
      assert.deepEqual((await service.checkIn(kiosk, checkInBody())).commands, []);
      await service.issueCommand(ADMIN, kiosk.id, 'reboot'); // answered, so another may wait now
      assert.equal((await refusal(service.issueCommand(ADMIN, '00000000-0000-4000-8000-000000000000', 'reboot'))).status, 404);
    },
  },
  {
    name: 'a screenshot is taken only for a pending screenshot command of that kiosk, and only as a PNG',
    async run({ open }) {
      const service = await open({ config: { screenshotMaxBytes: 2048 } });
      const { kiosk } = await enrolByToken(service, 1);
      const { kiosk: other } = await enrolByToken(service, 2);
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('IHDR and the rest')]);
      const upload = (commandId: string, bytes = png) => ({ commandId, pngBase64: bytes.toString('base64') });

      const unasked = await refusal(service.storeScreenshot(kiosk, upload('00000000-0000-4000-8000-000000000000')));
      assert.equal(unasked.status, 409);
      const reboot = await service.issueCommand(ADMIN, kiosk.id, 'reboot');
      assert.equal((await refusal(service.storeScreenshot(kiosk, upload(reboot.id)))).status, 409, 'not a screenshot command');
      const asked = await service.issueCommand(ADMIN, kiosk.id, 'screenshot');
      assert.equal((await refusal(service.storeScreenshot(other, upload(asked.id)))).status, 409, 'another kiosk\'s command');
      const notPng = await refusal(service.storeScreenshot(kiosk, upload(asked.id, Buffer.from('GIF89a...'))));
      assert.deepEqual([notPng.status, notPng.userMessage], [400, 'The screenshot is not a PNG picture.']);
      const big = await refusal(service.storeScreenshot(kiosk, upload(asked.id, Buffer.concat([png, Buffer.alloc(2048)]))));
      assert.deepEqual([big.status, big.userMessage], [400, 'The screenshot is larger than the controller takes (2 KiB).']);
      assert.equal((await refusal(service.screenshot(kiosk.id))).status, 404, 'none yet');

      await service.storeScreenshot(kiosk, upload(asked.id));
      const shot = await service.screenshot(kiosk.id);
      assert.ok(shot.png.equals(png));
      const detail = await service.kioskDetail(kiosk.id);
      assert.equal(detail.screenshotAt, shot.takenAt);
      assert.deepEqual(detail.commands.find((c) => c.id === asked.id)?.state, 'done');
      assert.equal((await refusal(service.storeScreenshot(kiosk, upload(asked.id)))).status, 409, 'answered once');
      assert.deepEqual((await service.checkIn(kiosk, checkInBody())).commands.map((c) => c.kind), ['reboot']);
    },
  },
  {
    name: 'the audit log says who changed what, newest first, and never a setting\'s value',
    async run({ open }) {
      const service = await open();
      const { kiosk } = await enrolByToken(service, 1, 'lab3-pc07');
      await service.updateKiosk(OTHER_ADMIN, kiosk.id, { name: 'Lab 3 PC 7', group: 'lab3' });
      await service.changeGroupSettings(ADMIN, 'lab3', { wifi_ssid: 'lab3', wifi_password: 'correct horse' });
      await service.issueCommand(OTHER_ADMIN, kiosk.id, 'identify');
      await service.registerMac(ADMIN, { mac: '52:54:00:00:00:09', name: 'Spare', group: null });
      await service.forgetKiosk(ADMIN, kiosk.id);
      const log = AuditLog.parse(await service.auditLog());
      assert.deepEqual(log.entries.map((e) => [e.who, e.action, e.target]), [
        ['ada', 'forget-kiosk', 'Lab 3 PC 7'],
        ['ada', 'register-mac', '52:54:00:00:00:09'],
        ['grace', 'command', 'Lab 3 PC 7'],
        ['ada', 'group-settings', 'group:lab3'],
        ['grace', 'update-kiosk', 'Lab 3 PC 7'],
        ['site token "box 1"', 'enrol', 'lab3-pc07'],
        ['ada', 'make-site-token', 'site token "box 1"'],
      ]);
      assert.equal(log.entries[3]!.detail, 'set wifi_ssid, wifi_password');
      assert.equal(log.entries[4]!.detail, 'renamed from lab3-pc07 to Lab 3 PC 7; group (none) → lab3');
      assert.ok(!JSON.stringify(log).includes('correct horse'));
      assert.deepEqual((await service.auditLog(2)).entries.map((e) => e.action), ['forget-kiosk', 'register-mac']);
      assert.equal((await refusal(service.kioskDetail(kiosk.id))).status, 404, 'forgotten');
    },
  },
  {
    name: 'a kiosk is online while it checks in on time, late after a few missed check-ins, then offline (stand-in clock)',
    async run({ open, clock }) {
      const service = await open();
      const { kiosk } = await enrolByToken(service, 1);
      const state = async () => (await service.listKiosks()).kiosks[0]!.state;
      assert.equal(await state(), 'offline', 'never checked in');
      await service.checkIn(kiosk, checkInBody());
      clock.advance(130); // one check-in missed, with jitter: forgiven
      assert.equal(await state(), 'online');
      clock.advance(10);
      assert.equal(await state(), 'late');
      clock.advance(160); // 300 s: five intervals
      assert.equal(await state(), 'late');
      clock.advance(1);
      assert.equal(await state(), 'offline');
      await service.checkIn(kiosk, checkInBody());
      assert.equal(await state(), 'online');
    },
  },
  {
    name: 'a check-in carries the kiosk\'s update status: the fleet table shows version, phase and progress, the kiosk\'s page all of it; a kiosk that sends none has none',
    async run({ open, clock }) {
      const service = await open();
      const { kiosk } = await enrolByToken(service, 1);
      const writing = updateStatus((u) => {
        u.phase = 'writing'; u.targetVersion = '2026.04'; u.source = 'fleet'; u.percent = 42; u.message = 'writing slot b: 1.2 of 2.9 GiB';
      });
      await service.checkIn(kiosk, checkInBody((b) => { b.update = writing; }));
      let [row] = KioskList.parse(await service.listKiosks()).kiosks;
      assert.deepEqual(row!.update, { runningVersion: '2026.03', phase: 'writing', percent: 42, targetVersion: '2026.04', lastTrial: null });
      assert.deepEqual(KioskDetail.parse(await service.kioskDetail(kiosk.id)).update, writing);

      // Back on the old slot after a trial that never reached the health gate.
      clock.advance(600);
      const back = updateStatus((u) => {
        u.bootedSlot = 'a';
        u.lastTrial = { version: '2026.04', slot: 'b', outcome: 'did-not-finish', detail: 'the box came back on slot a: the trial boot of slot b did not reach the health gate', at: '2026-03-02T08:09:00.000Z' };
        u.updatedAt = '2026-03-02T08:09:30.000Z';
      });
      await service.checkIn(kiosk, checkInBody((b) => { b.update = back; b.inventory.slot = 'a'; }));
      [row] = KioskList.parse(await service.listKiosks()).kiosks;
      assert.deepEqual(row!.update, { runningVersion: '2026.03', phase: 'idle', percent: null, targetVersion: null, lastTrial: { version: '2026.04', outcome: 'did-not-finish', at: '2026-03-02T08:09:00.000Z' } });
      const detail = KioskDetail.parse(await service.kioskDetail(kiosk.id));
      assert.equal(detail.update?.lastTrial?.detail, 'the box came back on slot a: the trial boot of slot b did not reach the health gate');
      assert.equal(detail.inventory?.slot, 'a');

      // A kiosk of before updates sends no update field at all: read as none, and no stale status stays.
      const older: Record<string, unknown> = { ...checkInBody() };
      delete older.update;
      await service.checkIn(kiosk, CheckIn.parse(older));
      [row] = KioskList.parse(await service.listKiosks()).kiosks;
      assert.equal(row!.update, null);
      assert.equal(KioskDetail.parse(await service.kioskDetail(kiosk.id)).update, null);
    },
  },
  {
    name: 'a group says which versions its kiosks run, most kiosks first: the update status\'s running version, else the image\'s release line (not checked in yet: unknown)',
    async run({ open }) {
      const service = await open();
      const boxes = await Promise.all([1, 2, 3, 4].map((n) => enrolByToken(service, n)));
      const other = await enrolByToken(service, 5);
      for (const { kiosk } of [...boxes, other]) await service.updateKiosk(ADMIN, kiosk.id, { group: kiosk === other.kiosk ? 'office' : 'lab3' });
      const onA = (version: string) => (b: CheckIn) => {
        b.inventory.imageVersion = `thinkiosk ${version} arm64 (3f2a9c0d1e4b5a6c)`;
        b.update = updateStatus((u) => { u.runningVersion = version; });
      };
      // An image of before A/B updates: no status, its release line is all there is.
      await service.checkIn(boxes[0]!.kiosk, checkInBody((b) => { b.inventory.imageVersion = 'thinkiosk 1.3.2 arm64 (0a1b2c3d4e5f6a7b)'; }));
      await service.checkIn(boxes[1]!.kiosk, checkInBody(onA('1.4.0')));
      await service.checkIn(boxes[2]!.kiosk, checkInBody(onA('1.4.0')));
      await service.checkIn(other.kiosk, checkInBody(onA('1.4.0')));
      const groups = Layers.parse(await service.layers()).groups;
      assert.deepEqual(groups.map((g) => [g.name, g.kiosks, g.versions]), [
        ['lab3', 4, [{ version: '1.4.0', kiosks: 2 }, { version: 'thinkiosk 1.3.2 arm64 (0a1b2c3d4e5f6a7b)', kiosks: 1 }, { version: 'unknown', kiosks: 1 }]],
        ['office', 1, [{ version: '1.4.0', kiosks: 1 }]],
      ]);
    },
  },
  {
    name: 'a database of before update statuses (migration 0001 only) is brought up to date; its kiosks keep everything and report updates from then on',
    async run({ database, open }) {
      const where = fleetDatabase({ database }, undefined);
      const old = connectFleetDatabase(where);
      try {
        await migrateFleetDatabase(old, where.dialect, '0001-initial');
        // A kiosk as the controller of before stored it (no update_status column yet).
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        await (old as any).insertInto('kiosks').values({
          id: '6f1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d', name: 'lab3-pc09', group_name: null, secret_hash: createHash('sha256').update('old-secret-old-secret-old-secret-12').digest('hex'),
          enrolled_at: '2026-01-05T08:00:00.000Z', enrolled_by: 'site token "lab 3"', macs: '["52:54:00:00:00:09"]', last_check_in: '2026-03-02T07:59:30.000Z', check_in: null,
          kiosk_version: '0.1.0', image_version: '2026.01', hostname: 'lab3-pc09', addresses: '["10.0.3.9"]', temperature_c: 45, throttled: 0, seat: 'null',
          applied_revision: null, last_crash: null, settings: '{"language":"zh-CN"}', restarts_total: 7, crashes_total: 2,
        }).execute();
      } finally {
        await old.destroy();
      }
      const service = await open();
      const [row] = KioskList.parse(await service.listKiosks()).kiosks;
      assert.deepEqual([row!.name, row!.imageVersion, row!.update], ['lab3-pc09', '2026.01', null]);
      assert.deepEqual(KioskDetail.parse(await service.kioskDetail(row!.id)).ownSettings, { language: 'zh-CN' });
      const kiosk = await service.authenticateKiosk(`${row!.id}.old-secret-old-secret-old-secret-12`);
      await service.checkIn(kiosk, checkInBody((b) => { b.update = updateStatus(); }));
      assert.equal(KioskDetail.parse(await service.kioskDetail(kiosk.id)).update?.committedSlot, 'a');
    },
  },
  {
    name: 'migrations run once: reopening the database keeps everything and changes nothing',
    async run({ open }) {
      const first = await open();
      const { enrolment } = await enrolByToken(first, 1);
      await first.changeSiteSettings(ADMIN, { language: 'zh-CN' });
      await first.close();
      const second = await open();
      const third = await open();
      await second.authenticateKiosk(`${enrolment.kioskId}.${enrolment.secret}`);
      assert.deepEqual((await third.layers()).site, { language: 'zh-CN' });
      assert.equal((await second.auditLog()).entries.length, 3);
    },
  },
  {
    name: 'the fleet\'s series are on the registry given, computed from the store at scrape time',
    async run({ open, clock }) {
      const registry = new Registry();
      const service = await open({ registry, config: { metricsCacheSeconds: 5 } });
      const { kiosk: a } = await enrolByToken(service, 1, 'lab3-pc01');
      const { kiosk: b } = await enrolByToken(service, 2, 'lab3-pc02');
      await enrolByToken(service, 3, 'never-seen');
      await service.checkIn(a, checkInBody((body) => {
        body.session = { user: 'alice', desktop: 'Lab PC', protocol: 'rdp', since: '2026-03-02T07:55:00.000Z' };
        body.health = {
          restarts: 3, crashes: 1, lastCrash: { at: '2026-03-02T07:50:00.000Z', reason: 'renderer gone' },
          repairs: [{ fault: 'settings-full', at: '2026-03-02T07:40:00.000Z', detail: 'the settings partition was full', action: 'cleared 120 MiB of old logs', repaired: true }],
        };
      }));
      await service.checkIn(a, checkInBody((body) => {
        body.session = { user: 'alice', desktop: 'Lab PC', protocol: 'rdp', since: '2026-03-02T07:55:00.000Z' };
        body.health.restarts = 2;
        // The same repair again (its reply was lost) is counted once.
        body.health.repairs = [{ fault: 'settings-full', at: '2026-03-02T07:40:00.000Z', detail: 'the settings partition was full', action: 'cleared 120 MiB of old logs', repaired: true }];
      }));
      await service.checkIn(b, checkInBody((body) => {
        body.inventory.imageVersion = '2026.02';
        body.inventory.temperatureC = 81;
        body.inventory.throttling = { underVoltage: false, frequencyCapped: true, throttled: true, softTemperatureLimit: true, underVoltageSinceBoot: false, throttledSinceBoot: true };
        body.session = { user: 'bob', desktop: null, protocol: null, since: '2026-03-02T07:58:00.000Z' };
      }));
      await assert.rejects(service.authenticateKiosk('nobody.nothing').catch((e) => { service.countCheckIn('refused'); throw e; }));

      let text = await registry.metrics();
      const checkInAt = clock().getTime() / 1000;
      assert.equal(sample(text, 'thinkiosk_fleet_kiosks', { state: 'online', version: '2026.03' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosks', { state: 'online', version: '2026.02' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosks', { state: 'offline', version: 'unknown' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_last_check_in_timestamp_seconds', { kiosk: 'lab3-pc01' }), checkInAt);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_last_check_in_timestamp_seconds', { kiosk: 'never-seen' }), undefined);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_temperature_celsius', { kiosk: 'lab3-pc02' }), 81);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_throttled', { kiosk: 'lab3-pc01' }), 0);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_throttled', { kiosk: 'lab3-pc02' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_restarts_total', { kiosk: 'lab3-pc01' }), 5);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_crashes_total', { kiosk: 'lab3-pc01' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_crashes_total', { kiosk: 'lab3-pc02' }), 0);
      assert.equal(sample(text, 'thinkiosk_fleet_sessions', { protocol: 'rdp' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_sessions', { protocol: 'none' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_check_ins_total', { result: 'ok' }), 3);
      assert.equal(sample(text, 'thinkiosk_fleet_check_ins_total', { result: 'refused' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_repairs_total', { fault: 'settings-full', repaired: 'true' }), 1);
      assert.match(text, /# TYPE thinkiosk_fleet_kiosk_restarts_total counter/);
      // Neither reports an update status (yet): every phase is there, at 0 but none.
      assert.equal(sample(text, 'thinkiosk_fleet_updates', { phase: 'none' }), 2);
      assert.equal(sample(text, 'thinkiosk_fleet_updates', { phase: 'writing' }), 0);
      assert.equal(sample(text, 'thinkiosk_fleet_last_trials', { outcome: 'rolled-back' }), 0);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_trial_failed', { kiosk: 'lab3-pc01' }), undefined, 'no trial, no series');
      assert.equal(sample(text, 'thinkiosk_fleet_running_versions', { version: 'unknown' }), 3);

      // Within the cache's few seconds a scrape reads nothing new; after them it does.
      await service.checkIn(b, checkInBody());
      clock.advance(2);
      text = await registry.metrics();
      assert.equal(sample(text, 'thinkiosk_fleet_sessions', { protocol: 'none' }), 1, 'cached');
      assert.equal(sample(text, 'thinkiosk_fleet_check_ins_total', { result: 'ok' }), 4, 'the counter is live');
      clock.advance(4);
      text = await registry.metrics();
      assert.equal(sample(text, 'thinkiosk_fleet_sessions', { protocol: 'none' }), undefined);
      // Offline kiosks keep their last check-in time but no temperature or throttling.
      clock.advance(3600);
      text = await registry.metrics();
      assert.equal(sample(text, 'thinkiosk_fleet_kiosks', { state: 'offline', version: '2026.03' }), 2);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_temperature_celsius', { kiosk: 'lab3-pc02' }), undefined);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_last_check_in_timestamp_seconds', { kiosk: 'lab3-pc01' }), checkInAt);
      assert.equal(sample(text, 'thinkiosk_fleet_sessions', { protocol: 'rdp' }), undefined, 'an offline kiosk\'s last seat is nobody now');
    },
  },
  {
    name: 'the update series: kiosks by update phase (offline ones left out) and by their last trial\'s outcome; per kiosk whether its last trial failed',
    async run({ open, clock }) {
      const registry = new Registry();
      const service = await open({ registry, config: { metricsCacheSeconds: 0 } });
      const [a, b, c, d] = await Promise.all(['lab3-pc01', 'lab3-pc02', 'lab3-pc03', 'lab3-pc04'].map((name, i) => enrolByToken(service, i + 1, name)));
      const trial = (outcome: 'committed' | 'rolled-back' | 'did-not-finish') => ({ version: '2026.04', slot: 'b' as const, outcome, detail: `trial ${outcome}`, at: '2026-03-02T07:30:00.000Z' });
      // d went quiet an hour ago, after a rolled-back trial: left out of the phases, still counted by its trial.
      await service.checkIn(d!.kiosk, checkInBody((body) => { body.update = updateStatus((u) => { u.lastTrial = trial('rolled-back'); }); }));
      clock.advance(3600);
      await service.checkIn(a!.kiosk, checkInBody((body) => { body.update = updateStatus((u) => { u.phase = 'writing'; u.percent = 42; u.targetVersion = '2026.04'; }); }));
      await service.checkIn(b!.kiosk, checkInBody((body) => {
        body.inventory.imageVersion = '2026.04';
        body.update = updateStatus((u) => { u.runningVersion = '2026.04'; u.bootedSlot = 'b'; u.committedSlot = 'b'; u.lastTrial = trial('committed'); });
      }));
      await service.checkIn(c!.kiosk, checkInBody((body) => { body.update = updateStatus((u) => { u.phase = 'failed'; u.message = 'the bundle\'s signature is not the image\'s key'; u.lastTrial = trial('did-not-finish'); }); }));

      const text = await registry.metrics();
      assert.deepEqual(Object.fromEntries(['idle', 'downloading', 'writing', 'verifying', 'rebooting', 'trial', 'failed', 'none'].map((phase) => [phase, sample(text, 'thinkiosk_fleet_updates', { phase })])),
        { idle: 1, downloading: 0, writing: 1, verifying: 0, rebooting: 0, trial: 0, failed: 1, none: 0 });
      assert.equal(sample(text, 'thinkiosk_fleet_last_trials', { outcome: 'committed' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_last_trials', { outcome: 'rolled-back' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_last_trials', { outcome: 'did-not-finish' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_trial_failed', { kiosk: 'lab3-pc01' }), undefined);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_trial_failed', { kiosk: 'lab3-pc02' }), 0);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_trial_failed', { kiosk: 'lab3-pc03' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosk_trial_failed', { kiosk: 'lab3-pc04' }), 1);
      // Kiosks per running version, as update_version names it (all enrolled kiosks, offline ones too).
      assert.equal(sample(text, 'thinkiosk_fleet_running_versions', { version: '2026.04' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_running_versions', { version: '2026.03' }), 3);
      assert.equal(sample(text, 'thinkiosk_fleet_running_versions', { version: 'unknown' }), undefined);
      // The image's release line, by state: the fleet's kiosks series.
      assert.equal(sample(text, 'thinkiosk_fleet_kiosks', { state: 'online', version: '2026.04' }), 1);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosks', { state: 'online', version: '2026.03' }), 2);
      assert.equal(sample(text, 'thinkiosk_fleet_kiosks', { state: 'offline', version: '2026.03' }), 1);
    },
  },
];

/**
 * Registers every scenario as a test named `[label] ...`, each on a database of its own from
 * `newDatabase`, with the services it opened closed afterwards.
 */
export function runFleetScenarios(label: string, newDatabase: () => Promise<string>, options: { skip?: string | false } = {}): void {
  for (const scenario of FLEET_SCENARIOS) {
    test(`[${label}] ${scenario.name}`, { skip: options.skip }, async () => {
      const world = await fleetWorld(await newDatabase());
      try {
        await scenario.run(world);
      } finally {
        await world.closeAll();
      }
    });
  }
}

/** A world on `database`: what a scenario runs in (also for tests outside the shared list). */
export async function fleetWorld(database: string): Promise<FleetWorld & { closeAll(): Promise<void> }> {
  const clock = standInClock();
  const open: FleetService[] = [];
  return {
    database,
    clock,
    async open({ registry, config, logger } = {}) {
      const service = await FleetService.open(FleetConfig.parse({ database, ...config }), { clock, registry, logger });
      open.push(service);
      return service;
    },
    async closeAll() {
      // A service closed by the scenario itself is closed already; closing twice is harmless.
      await Promise.all(open.map((service) => service.close().catch(() => {})));
    },
  };
}
