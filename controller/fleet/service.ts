/**
 * The fleet: kiosks enrol, check in, take commands and settings; administrators look and steer.
 * No HTTP here (kiosk-routes.ts and admin-routes.ts are the doors): every method takes checked
 * bodies of the contract (contract/fleet.ts, contract/fleet-admin.ts) and answers its replies, or
 * throws an ApiError saying what to do. Every administrator's change is written to the audit log
 * with their name; enrolments are too.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import {
  kioskState, type AppliedSettings, type CheckIn, type CheckInReply, type CommandKind, type Enrolment, type EnrolRequest, type Fault,
  type Health, type Inventory, type ScreenshotUpload, type SeatSession,
} from '../../contract/fleet.js';
import type {
  AuditLog, CommandRecord, Enrolments, Group, KioskDetail, KioskList, KioskSummary, KioskUpdate, Layers, RegisteredMac, UpdateSummary,
} from '../../contract/fleet-admin.js';
import type { UpdateStatus } from '../../contract/update-status.js';
import { ApiError } from '../core/api-error.js';
import { silentLogger, type Logger } from '../core/log.js';
import { fleetDatabase, type FleetConfig } from './config.js';
import { openFleetDatabase } from './database.js';
import { FleetMetrics, type CheckInResult, type FleetReading } from './metrics.js';
import { changeLayer, effectiveSettings, readLayer } from './settings.js';
import { FleetStore, type CommandRow, type GroupRow, type KioskRow, type KioskSummaryRow } from './store.js';

/** Who made a change: the administrator's user name, as their session says. */
export interface AdminIdentity { user: string }

/** A kiosk whose credential was checked. */
export interface KioskIdentity { id: string; name: string }

export interface FleetServiceOptions {
  logger?: Logger;
  /** The controller's metrics registry; without it the fleet exports no series. */
  registry?: Registry;
  /** What time it is: for kiosk state, records and the check-in's serverTime. */
  clock?: () => Date;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Commands the kiosk detail shows (the store keeps more). */
const DETAIL_COMMANDS = 20;
const SECRET_BYTES = 32;
/** Compared against when the kiosk id is unknown, so an unknown id takes as long as a wrong secret. */
const NO_SECRET_HASH = sha256('no such kiosk');

export class FleetService {
  readonly metrics: FleetMetrics | null;
  private readonly logger: Logger;
  private readonly clock: () => Date;

  /** Opens (and brings up to date) the configured database; stateDir holds the default SQLite file. */
  static async open(config: FleetConfig, options: FleetServiceOptions & { stateDir?: string } = {}): Promise<FleetService> {
    const { db, dialect } = await openFleetDatabase(fleetDatabase(config, options.stateDir), config.databasePoolSize);
    return new FleetService(new FleetStore(db, dialect), config, options);
  }

  constructor(private readonly store: FleetStore, readonly config: FleetConfig, options: FleetServiceOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? (() => new Date());
    this.metrics = options.registry
      ? new FleetMetrics(options.registry, () => this.reading(), { cacheSeconds: config.metricsCacheSeconds, clock: this.clock })
      : null;
  }

  close(): Promise<void> {
    return this.store.close();
  }

  // ---- the kiosk's side ---------------------------------------------------------------------

  /**
   * Lets a box in by a site token or a registered MAC. A box already enrolled (one of its MACs is
   * known: a re-flashed card) gets its old record back with a new secret; the old one stops
   * working. `from` is the client's address, for the log and the audit.
   */
  async enrol(request: EnrolRequest, from: string): Promise<Enrolment> {
    const macs = [...new Set(request.hardware.macs)];
    const token = request.siteToken ? await this.store.siteTokenByHash(sha256(request.siteToken)) : undefined;
    const registered = await this.store.registeredMac(macs);
    if (!token && !registered) {
      this.logger.log('warn', 'fleet-enrolment-refused', { from, macs, hostname: request.hardware.hostname, token: request.siteToken ? 'unknown' : 'none' });
      throw new ApiError('forbidden', request.siteToken
        ? `This kiosk's site token (preset key fleet_token) is not known to the controller: it may have been deleted. An administrator makes a new one on the fleet page, or registers this kiosk's MAC address (${macs.join(', ')}).`
        : `This kiosk is not registered with the controller: an administrator registers its MAC address (${macs.join(', ')}) or gives it a site token (preset key fleet_token).`,
      `enrolment refused for ${macs.join(', ')} from ${from}: ${request.siteToken ? 'unknown site token' : 'no site token, MAC not registered'}`);
    }
    const enrolledBy = registered ? `registered MAC ${registered.mac}` : `site token "${token!.label}"`;
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const at = this.now();
    const enrolled = await this.store.enrol({
      id: randomUUID(),
      name: registered?.name ?? kioskNameOf(request.hardware.hostname),
      group: registered?.group_name ?? null,
      secretHash: sha256(secret),
      enrolledBy,
      macs,
      at,
      // A kiosk is online for 2.2 intervals after a check-in (kioskState): until then it is not
      // given away, so a box showing a working kiosk's MAC cannot take its place (and settings).
      silentSince: new Date(this.clock().getTime() - this.config.checkInSeconds * 2.2 * 1000).toISOString(),
    });
    if ('stillCheckingIn' in enrolled) {
      const holder = enrolled.stillCheckingIn;
      this.logger.log('warn', 'fleet-enrolment-refused', { from, macs, hostname: request.hardware.hostname, reason: `kiosk ${holder.name} with this MAC is still checking in` });
      await this.store.audit({ at, who: enrolledBy, action: 'enrol-refused', target: holder.name, detail: `from ${from}: MACs ${macs.join(', ')} belong to ${holder.name}, which is still checking in` });
      throw new ApiError('conflict',
        `Another kiosk with this MAC address (${holder.name}) is still checking in. If this box replaces it, turn the other one off and wait ${Math.ceil(this.config.checkInSeconds * 2.2 / 60)} minutes, or an administrator forgets ${holder.name} on the fleet page.`,
        `enrolment of ${macs.join(', ')} from ${from} refused: ${holder.name} still checks in`);
    }
    const { kiosk, reEnrolled } = enrolled;
    const detail = `from ${from} by ${enrolledBy}; MACs ${macs.join(', ')}; host name ${request.hardware.hostname}${reEnrolled ? '; its earlier credential no longer works' : ''}`;
    await this.store.audit({ at, who: enrolledBy, action: reEnrolled ? 're-enrol' : 'enrol', target: kiosk.name, detail });
    this.logger.log('info', 'fleet-enrolment', { kiosk: kiosk.name, kioskId: kiosk.id, from, enrolledBy, reEnrolled });
    return { kioskId: kiosk.id, secret, name: kiosk.name, checkInSeconds: this.config.checkInSeconds };
  }

  /** The kiosk behind `<kioskId>.<secret>`, or a 401 that tells the kiosk to enrol again. */
  async authenticateKiosk(credential: string | undefined): Promise<KioskIdentity> {
    const [id, secret, ...rest] = (credential ?? '').split('.');
    const kiosk = id && secret && !rest.length ? await this.store.kiosk(id) : undefined;
    const matches = timingSafeEqual(Buffer.from(sha256(secret ?? ''), 'hex'), Buffer.from(kiosk?.secret_hash ?? NO_SECRET_HASH, 'hex'));
    if (!kiosk || !matches) {
      throw new ApiError('invalid-credentials', 'The controller does not know this kiosk (it was forgotten, or enrolled again elsewhere): the kiosk enrols again.',
        `kiosk credential refused${id ? ` for ${id.slice(0, 64)}` : ''}: ${kiosk ? 'wrong secret' : credential ? 'no such kiosk' : 'none sent'}`);
    }
    return { id: kiosk.id, name: kiosk.name };
  }

  /** Counts a check-in that never reached checkIn (its credential or body was refused at the door). */
  countCheckIn(result: Exclude<CheckInResult, 'ok'>): void {
    this.metrics?.checkIns.inc({ result });
  }

  /** Stores what the kiosk tells, answers its acks, and replies with its settings and pending commands. */
  async checkIn(kiosk: KioskIdentity, body: CheckIn): Promise<CheckInReply> {
    try {
      const now = this.clock();
      const { acks, ...stored } = body;
      const view = await this.store.recordCheckIn(kiosk.id, {
        at: now.toISOString(),
        body: stored,
        throttled: isThrottled(body.inventory),
        addresses: body.inventory.addresses.map((a) => a.address),
      }, acks, this.config);
      if (!view) {
        throw new ApiError('invalid-credentials', 'The controller no longer knows this kiosk (an administrator forgot it): the kiosk enrols again.', `check-in of forgotten kiosk ${kiosk.id}`);
      }
      const reply: CheckInReply = {
        kioskId: view.kiosk.id,
        name: view.kiosk.name,
        checkInSeconds: this.config.checkInSeconds,
        settings: effectiveSettings(layersOf(view.kiosk, view.site, view.group)),
        commands: view.pending.map((c) => ({ id: c.id, kind: c.kind as CommandKind, issuedAt: c.issued_at, issuedBy: c.issued_by })),
        serverTime: now.toISOString(),
      };
      this.metrics?.checkIns.inc({ result: 'ok' });
      return reply;
    } catch (error) {
      this.metrics?.checkIns.inc({ result: error instanceof ApiError && error.status < 500 ? 'refused' : 'error' });
      throw error;
    }
  }

  /**
   * Keeps a screenshot the kiosk took for a pending screenshot command of its own, and answers that
   * command (done): a kiosk uploads before it would ack, and acks only a screenshot it could not take.
   */
  async storeScreenshot(kiosk: KioskIdentity, upload: ScreenshotUpload): Promise<void> {
    const png = Buffer.from(upload.pngBase64, 'base64');
    if (png.length > this.config.screenshotMaxBytes) {
      throw new ApiError('bad-request', `The screenshot is larger than the controller takes (${Math.floor(this.config.screenshotMaxBytes / 1024)} KiB).`, `screenshot of ${png.length} bytes from ${kiosk.name}`);
    }
    if (!png.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
      throw new ApiError('bad-request', 'The screenshot is not a PNG picture.', `screenshot from ${kiosk.name} without the PNG signature`);
    }
    if (!(await this.store.storeScreenshot(kiosk.id, upload.commandId, png, this.now()))) {
      throw new ApiError('conflict', 'No screenshot was asked of this kiosk (or it was already sent).', `screenshot from ${kiosk.name} for ${upload.commandId}, which is not its pending screenshot command`);
    }
  }

  // ---- the administrators' side -------------------------------------------------------------

  async listKiosks(): Promise<KioskList> {
    const [rows, site, groups] = await Promise.all([this.store.kioskSummaries(), this.store.siteSettings(), this.groupsByName()]);
    const now = this.clock();
    return { kiosks: rows.map((row) => this.summary(row, site, groups.get(row.group_name ?? '') ?? null, now)) };
  }

  async kioskDetail(id: string): Promise<KioskDetail> {
    const kiosk = await this.kioskRow(id);
    const [site, group, commands, repairs, screenshotAt] = await Promise.all([
      this.store.siteSettings(),
      kiosk.group_name ? this.store.group(kiosk.group_name) : undefined,
      this.store.commands(id, DETAIL_COMMANDS),
      this.store.repairs(id),
      this.store.screenshotTakenAt(id),
    ]);
    const checkIn = kiosk.check_in ? (JSON.parse(kiosk.check_in) as { inventory: Inventory; health: Health; applied: AppliedSettings | null }) : null;
    const effective = effectiveSettings(layersOf(kiosk, site, group ?? null));
    return {
      summary: this.summary(kiosk, site, group ?? null, this.clock()),
      inventory: checkIn?.inventory ?? null,
      health: checkIn?.health ?? null,
      ownSettings: readLayer(kiosk.settings),
      effective,
      applied: checkIn?.applied ?? null,
      commands: commands.map(commandRecord),
      repairs: repairs.map((r) => ({ fault: r.fault as Fault, at: r.at, detail: r.detail, action: r.action, repaired: r.repaired === 1 })),
      screenshotAt,
      update: updateStatusOf(kiosk),
    };
  }

  /** Renames a kiosk, moves it to a group (made if new) or out of one, and changes its own settings. */
  async updateKiosk(admin: AdminIdentity, id: string, update: KioskUpdate): Promise<KioskDetail> {
    const kiosk = await this.kioskRow(id);
    const at = this.now();
    const changes: string[] = [];
    if (update.name !== undefined && update.name !== kiosk.name) changes.push(`renamed from ${kiosk.name} to ${update.name}`);
    if (update.group !== undefined && update.group !== kiosk.group_name) changes.push(`group ${kiosk.group_name ?? '(none)'} → ${update.group ?? '(none)'}`);
    const { settings } = update;
    const outcome = await this.store.updateKiosk(id, {
      name: update.name,
      group: update.group,
      settings: settings && (async (current) => {
        const change = await changeLayer(readLayer(current), settings);
        changes.push(describeChange(change));
        return JSON.stringify(change.values);
      }),
    }, at);
    if (outcome === 'no-kiosk') throw noSuchKiosk(id);
    if (outcome === 'name-taken') throw new ApiError('conflict', `Another kiosk is already called ${update.name}. Choose another name.`);
    if (changes.length) await this.store.audit({ at, who: admin.user, action: 'update-kiosk', target: update.name ?? kiosk.name, detail: changes.join('; ') });
    return this.kioskDetail(id);
  }

  /**
   * Forgets a kiosk: its record, history and credential go. If the box checks in again it is
   * refused, and enrols anew when its site token or registered MAC still lets it.
   */
  async forgetKiosk(admin: AdminIdentity, id: string): Promise<void> {
    const kiosk = await this.kioskRow(id);
    if (!(await this.store.deleteKiosk(id))) throw noSuchKiosk(id);
    await this.store.audit({ at: this.now(), who: admin.user, action: 'forget-kiosk', target: kiosk.name, detail: `id ${id}, MACs ${(JSON.parse(kiosk.macs) as string[]).join(', ')}` });
  }

  /**
   * Queues a command for the kiosk's next check-in. One of a kind waits at a time (409 for
   * another): a second "reboot" queued behind the first would reboot the box twice, and a second
   * "screenshot" would only replace the first's picture.
   */
  async issueCommand(admin: AdminIdentity, id: string, kind: CommandKind): Promise<CommandRecord> {
    const kiosk = await this.kioskRow(id);
    const at = this.now();
    const outcome = await this.store.issueCommand({ id: randomUUID(), kioskId: id, kind, at, by: admin.user });
    if ('waiting' in outcome) {
      const w = outcome.waiting;
      throw new ApiError('conflict', `A ${kind} command is already waiting for ${kiosk.name} (from ${w.issued_by} at ${w.issued_at}); it runs at the kiosk's next check-in.`);
    }
    await this.store.audit({ at, who: admin.user, action: 'command', target: kiosk.name, detail: `${kind} (command ${outcome.issued.id})` });
    return commandRecord(outcome.issued);
  }

  async layers(): Promise<Layers> {
    const [site, groups, versions] = await Promise.all([this.store.siteSettings(), this.store.groups(), this.store.versionsByGroup()]);
    return {
      site: readLayer(site),
      groups: groups.map((g) => {
        const running = versions.filter((v) => v.group === g.name)
          .map((v) => ({ version: v.version ?? 'unknown', kiosks: v.kiosks }))
          .sort((a, b) => b.kiosks - a.kiosks || a.version.localeCompare(b.version, undefined, { numeric: true }));
        return { name: g.name, settings: readLayer(g.settings), kiosks: running.reduce((sum, v) => sum + v.kiosks, 0), versions: running };
      }),
    };
  }

  async changeSiteSettings(admin: AdminIdentity, update: Record<string, string>): Promise<Layers> {
    let description = '';
    await this.store.changeSiteSettings(async (current) => {
      const change = await changeLayer(readLayer(current), update);
      description = describeChange(change);
      return JSON.stringify(change.values);
    });
    await this.store.audit({ at: this.now(), who: admin.user, action: 'site-settings', target: 'site', detail: description });
    return this.layers();
  }

  /** Changes a group's settings; a group not known yet is made. */
  async changeGroupSettings(admin: AdminIdentity, name: string, update: Record<string, string>): Promise<Group> {
    const at = this.now();
    let description = '';
    await this.store.changeGroupSettings(name, at, async (current) => {
      const change = await changeLayer(readLayer(current), update);
      description = describeChange(change);
      return JSON.stringify(change.values);
    });
    await this.store.audit({ at, who: admin.user, action: 'group-settings', target: `group:${name}`, detail: description });
    const group = (await this.layers()).groups.find((g) => g.name === name);
    if (!group) throw noSuchGroup(name); // deleted meanwhile by another administrator
    return group;
  }

  /** Deletes a group: its kiosks (and MACs registered into it) fall back to the site's settings. */
  async deleteGroup(admin: AdminIdentity, name: string): Promise<void> {
    const kiosks = (await this.store.kioskCountsByGroup()).get(name) ?? 0;
    if (!(await this.store.deleteGroup(name))) throw noSuchGroup(name);
    await this.store.audit({ at: this.now(), who: admin.user, action: 'delete-group', target: `group:${name}`, detail: `${kiosks} kiosk(s) now follow the site's settings` });
  }

  async enrolments(): Promise<Enrolments> {
    const [tokens, macs] = await Promise.all([this.store.siteTokens(), this.store.registeredMacs()]);
    return {
      tokens: tokens.map((t) => ({ id: t.id, label: t.label, createdAt: t.created_at, createdBy: t.created_by })),
      macs: macs.map((m) => ({ mac: m.mac, name: m.name, group: m.group_name })),
    };
  }

  /** A new site token: shown this once; the controller keeps only its hash. */
  async makeSiteToken(admin: AdminIdentity, label: string): Promise<{ id: string; label: string; createdAt: string; createdBy: string; token: string }> {
    const token = randomBytes(32).toString('base64url');
    const row = { id: randomUUID(), label, token_hash: sha256(token), created_at: this.now(), created_by: admin.user };
    await this.store.insertSiteToken(row);
    await this.store.audit({ at: row.created_at, who: admin.user, action: 'make-site-token', target: `site token "${label}"`, detail: `id ${row.id}` });
    return { id: row.id, label, createdAt: row.created_at, createdBy: admin.user, token };
  }

  /** Kiosks already enrolled with the token keep their own credentials; new boxes can no longer use it. */
  async deleteSiteToken(admin: AdminIdentity, id: string): Promise<void> {
    const row = await this.store.deleteSiteToken(id);
    if (!row) throw new ApiError('not-found', 'There is no such site token (it may have been deleted already). Refresh the page.');
    await this.store.audit({ at: this.now(), who: admin.user, action: 'delete-site-token', target: `site token "${row.label}"`, detail: `id ${id}` });
  }

  /** Registers a MAC (or changes its name and group): a box with it enrols without a token, named and grouped so. */
  async registerMac(admin: AdminIdentity, mac: RegisteredMac): Promise<RegisteredMac> {
    await this.store.registerMac({ mac: mac.mac, name: mac.name, group_name: mac.group, registered_at: this.now(), registered_by: admin.user });
    await this.store.audit({ at: this.now(), who: admin.user, action: 'register-mac', target: mac.mac, detail: `name ${mac.name ?? '(its host name)'}, group ${mac.group ?? '(none)'}` });
    return mac;
  }

  /** A box with this MAC can no longer enrol by it; a kiosk already enrolled keeps its credential. */
  async forgetMac(admin: AdminIdentity, mac: string): Promise<void> {
    if (!(await this.store.forgetMac(mac))) throw new ApiError('not-found', `The MAC address ${mac} is not registered. Refresh the page.`);
    await this.store.audit({ at: this.now(), who: admin.user, action: 'forget-mac', target: mac, detail: '' });
  }

  /** The newest entries first. */
  async auditLog(limit = 100): Promise<AuditLog> {
    const rows = await this.store.auditEntries(Math.max(1, Math.min(1000, Math.floor(limit))));
    return { entries: rows.map(({ at, who, action, target, detail }) => ({ at, who, action, target, detail })) };
  }

  async screenshot(id: string): Promise<{ png: Buffer; takenAt: string }> {
    const shot = await this.store.screenshot(id);
    if (!shot) {
      await this.kioskRow(id);
      throw new ApiError('not-found', 'This kiosk has sent no screenshot yet: ask it for one.');
    }
    return { png: Buffer.from(shot.png), takenAt: shot.taken_at };
  }

  // ---- inside -------------------------------------------------------------------------------

  private now(): string {
    return this.clock().toISOString();
  }

  private async kioskRow(id: string): Promise<KioskRow> {
    const kiosk = await this.store.kiosk(id);
    if (!kiosk) throw noSuchKiosk(id);
    return kiosk;
  }

  private async groupsByName(): Promise<Map<string, GroupRow>> {
    return new Map((await this.store.groups()).map((g) => [g.name, g]));
  }

  private summary(row: KioskSummaryRow, site: string, group: GroupRow | null, now: Date): KioskSummary {
    const lastCheckIn = row.last_check_in ? new Date(row.last_check_in) : null;
    return {
      id: row.id,
      name: row.name,
      group: row.group_name,
      state: kioskState(lastCheckIn, this.config.checkInSeconds, now),
      lastCheckIn: row.last_check_in,
      kioskVersion: row.kiosk_version,
      imageVersion: row.image_version,
      hostname: row.hostname,
      addresses: JSON.parse(row.addresses) as string[],
      session: JSON.parse(row.seat) as SeatSession,
      temperatureC: row.temperature_c,
      throttled: row.throttled === 1,
      lastCrash: row.last_crash ? (JSON.parse(row.last_crash) as KioskSummary['lastCrash']) : null,
      settingsApplied: row.applied_revision !== null && row.applied_revision === effectiveSettings(layersOf(row, site, group)).revision,
      update: updateSummary(updateStatusOf(row)),
    };
  }

  /** What /metrics shows, read once per scrape (FleetMetrics caches it). */
  private async reading(): Promise<FleetReading> {
    const [rows, repairs] = await Promise.all([this.store.kioskSummaries(), this.store.repairTotals()]);
    const now = this.clock();
    return {
      kiosks: rows.map((row) => {
        const seat = JSON.parse(row.seat) as SeatSession;
        const lastCheckIn = row.last_check_in ? new Date(row.last_check_in) : null;
        const update = updateStatusOf(row);
        return {
          name: row.name,
          state: kioskState(lastCheckIn, this.config.checkInSeconds, now),
          version: row.image_version ?? 'unknown',
          lastCheckIn,
          temperatureC: row.temperature_c,
          throttled: row.throttled === 1,
          restarts: row.restarts_total,
          crashes: row.crashes_total,
          seat: seat ? (seat.protocol ?? 'none') : null,
          runningVersion: row.running_version,
          updatePhase: update?.phase ?? null,
          lastTrial: update?.lastTrial?.outcome ?? null,
        };
      }),
      repairs: repairs.map((r) => ({ fault: r.fault, repaired: r.repaired === 1, total: r.total })),
    };
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A kiosk's name from its host name: the characters a kiosk name may hold, else "kiosk". */
export function kioskNameOf(hostname: string): string {
  const name = hostname.replace(/[^A-Za-z0-9 ._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64).trim();
  return name || 'kiosk';
}

/** The update status the kiosk's last check-in carried (checked by the contract when it came in). */
function updateStatusOf(row: Pick<KioskRow, 'update_status'>): UpdateStatus | null {
  return row.update_status ? (JSON.parse(row.update_status) as UpdateStatus) : null;
}

function updateSummary(status: UpdateStatus | null): UpdateSummary | null {
  if (!status) return null;
  const { runningVersion, phase, percent, targetVersion, lastTrial } = status;
  return { runningVersion, phase, percent, targetVersion, lastTrial: lastTrial ? { version: lastTrial.version, outcome: lastTrial.outcome, at: lastTrial.at } : null };
}

function isThrottled(inventory: Inventory): boolean {
  return Boolean(inventory.throttling && Object.values(inventory.throttling).some(Boolean));
}

function layersOf(kiosk: Pick<KioskRow, 'settings'>, site: string, group: GroupRow | null) {
  return { site: readLayer(site), group: group ? { name: group.name, values: readLayer(group.settings) } : null, kiosk: readLayer(kiosk.settings) };
}

function commandRecord(c: CommandRow): CommandRecord {
  return { id: c.id, kind: c.kind as CommandKind, issuedAt: c.issued_at, issuedBy: c.issued_by, state: c.state, detail: c.detail, answeredAt: c.answered_at };
}

function describeChange(change: { set: string[]; removed: string[] }): string {
  const parts = [change.set.length ? `set ${change.set.join(', ')}` : '', change.removed.length ? `removed ${change.removed.join(', ')}` : ''].filter(Boolean);
  return parts.join('; ') || 'no change';
}

function noSuchKiosk(id: string): ApiError {
  return new ApiError('not-found', 'There is no such kiosk (it may have been forgotten). Refresh the fleet page.', `no kiosk ${id}`);
}

function noSuchGroup(name: string): ApiError {
  return new ApiError('not-found', `There is no group called ${name}. Refresh the page.`);
}
