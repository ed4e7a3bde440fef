/**
 * Every query the fleet makes, written once for SQLite and PostgreSQL (database.ts). A method is one
 * thing the service does to the database, in one transaction where it writes several rows; the
 * rules (who may enrol, what a setting may be) are the service's.
 */
import type { Selectable, Transaction } from 'kysely';
import type { CheckIn, CommandAck, CommandKind, Repair } from '../../contract/fleet.js';
import type { Dialect, FleetDb, FleetTables, KioskTable } from './database.js';

export type KioskRow = Selectable<KioskTable>;
export type CommandRow = Selectable<FleetTables['commands']>;
export type RepairRow = Selectable<FleetTables['repairs']>;
export type SiteTokenRow = Selectable<FleetTables['site_tokens']>;
export type RegisteredMacRow = Selectable<FleetTables['registered_macs']>;
export type AuditRow = Selectable<FleetTables['audit']>;
export type GroupRow = Selectable<FleetTables['groups']>;

/** The columns the fleet table, its metrics and kiosk state need: never the check-in's JSON or the secret. */
const SUMMARY_COLUMNS = [
  'id', 'name', 'group_name', 'last_check_in', 'kiosk_version', 'image_version', 'hostname', 'addresses',
  'temperature_c', 'throttled', 'seat', 'applied_revision', 'last_crash', 'settings', 'restarts_total', 'crashes_total', 'update_status', 'running_version',
] as const satisfies ReadonlyArray<keyof KioskTable>;
export type KioskSummaryRow = Pick<KioskRow, (typeof SUMMARY_COLUMNS)[number]>;

export interface AuditRecord { at: string; who: string; action: string; target: string; detail: string }

export interface NewKiosk {
  id: string;
  /** The name wanted; "-2", "-3"... is added when another kiosk has it. */
  name: string;
  group: string | null;
  secretHash: string;
  enrolledBy: string;
  macs: string[];
  at: string;
  /**
   * An enrolled kiosk with one of these MACs is taken over (new secret) only when it has not
   * checked in since this time: a kiosk still checking in is not handed to another box that shows
   * its MAC (MACs are seen by anyone on the LAN).
   */
  silentSince: string;
}

/** A check-in as stored: the body without its acks, and the columns read for every kiosk. */
export interface CheckInRecord {
  at: string;
  body: Omit<CheckIn, 'acks'>;
  throttled: boolean;
  addresses: string[];
}

export interface Limits { repairsPerKiosk: number; commandsPerKiosk: number }

/** What a kiosk's check-in reply is made of, read in the check-in's transaction. */
export interface KioskView {
  kiosk: KioskRow;
  site: string;
  group: GroupRow | null;
  pending: CommandRow[];
}

export class FleetStore {
  constructor(private readonly db: FleetDb, readonly dialect: Dialect) {}

  close(): Promise<void> {
    return this.db.destroy();
  }

  // ---- kiosks -------------------------------------------------------------------------------

  kiosk(id: string): Promise<KioskRow | undefined> {
    return this.db.selectFrom('kiosks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  kioskSummaries(): Promise<KioskSummaryRow[]> {
    return this.db.selectFrom('kiosks').select(SUMMARY_COLUMNS).orderBy('name').execute();
  }

  /**
   * Lets a box in: the kiosk that already has one of its MACs gets a new secret (the old one stops
   * working) and keeps its name, group, settings and history; else a new kiosk, named uniquely.
   * Two enrolments racing on two instances (the same box twice, or two boxes with one host name)
   * both see the way clear; the database's unique keys refuse the second, which then tries again
   * and finds the first's row.
   */
  async enrol(kiosk: NewKiosk): Promise<{ kiosk: KioskRow; reEnrolled: boolean } | { stillCheckingIn: KioskRow }> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const known = await trx.selectFrom('kiosk_macs').select('kiosk_id').where('mac', 'in', kiosk.macs).orderBy('mac').executeTakeFirst();
          if (known) {
            const current = await trx.selectFrom('kiosks').selectAll().where('id', '=', known.kiosk_id).executeTakeFirstOrThrow();
            if (current.last_check_in && current.last_check_in > kiosk.silentSince) return { stillCheckingIn: current };
            await trx.updateTable('kiosks').set({ secret_hash: kiosk.secretHash, macs: JSON.stringify(kiosk.macs) }).where('id', '=', known.kiosk_id).execute();
            await claimMacs(trx, known.kiosk_id, kiosk.macs);
            return { kiosk: await trx.selectFrom('kiosks').selectAll().where('id', '=', known.kiosk_id).executeTakeFirstOrThrow(), reEnrolled: true };
          }
          const name = await freeName(trx, kiosk.name);
          if (kiosk.group) await ensureGroup(trx, kiosk.group, kiosk.at);
          await trx.insertInto('kiosks').values({
            id: kiosk.id, name, group_name: kiosk.group, secret_hash: kiosk.secretHash, enrolled_at: kiosk.at, enrolled_by: kiosk.enrolledBy,
            macs: JSON.stringify(kiosk.macs), last_check_in: null, check_in: null, kiosk_version: null, image_version: null, hostname: null,
            addresses: '[]', temperature_c: null, throttled: 0, seat: 'null', applied_revision: null, last_crash: null, settings: '{}',
            restarts_total: 0, crashes_total: 0, update_status: null, running_version: null,
          }).execute();
          await claimMacs(trx, kiosk.id, kiosk.macs);
          return { kiosk: await trx.selectFrom('kiosks').selectAll().where('id', '=', kiosk.id).executeTakeFirstOrThrow(), reEnrolled: false };
        });
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  }

  /**
   * Changes name, group (made if new) and own settings (read and written back under a lock on
   * PostgreSQL, so two administrators' changes both land); nothing changes if any part is refused.
   */
  async updateKiosk(id: string, change: { name?: string; group?: string | null; settings?: (current: string) => Promise<string> }, at: string): Promise<'updated' | 'name-taken' | 'no-kiosk'> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('kiosks').select('settings').where('id', '=', id).$if(this.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
      if (!row) return 'no-kiosk';
      if (change.name !== undefined) {
        const holder = await trx.selectFrom('kiosks').select('id').where('name', '=', change.name).where('id', '!=', id).executeTakeFirst();
        if (holder) return 'name-taken';
      }
      if (change.group) await ensureGroup(trx, change.group, at);
      const settings = change.settings ? await change.settings(row.settings) : undefined;
      await trx.updateTable('kiosks').set({
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.group !== undefined ? { group_name: change.group } : {}),
        ...(settings !== undefined ? { settings } : {}),
      }).where('id', '=', id).execute();
      return 'updated';
    });
  }

  async deleteKiosk(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('kiosks').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Stores a check-in and answers what its reply needs (undefined: no such kiosk). Each ack answers a pending command of this
   * kiosk once (a repeated or unknown id changes nothing); repairs are kept up to the limit, their
   * totals for ever.
   */
  async recordCheckIn(id: string, record: CheckInRecord, acks: readonly CommandAck[], limits: Limits): Promise<KioskView | undefined> {
    const { body, at } = record;
    const repairs = body.health.repairs;
    return this.db.transaction().execute(async (trx) => {
      const stored = await trx.updateTable('kiosks').set((eb) => ({
        last_check_in: at,
        check_in: JSON.stringify(body),
        kiosk_version: body.kioskVersion,
        image_version: body.inventory.imageVersion,
        hostname: body.inventory.hostname,
        addresses: JSON.stringify(record.addresses),
        temperature_c: body.inventory.temperatureC,
        throttled: record.throttled ? 1 : 0,
        seat: JSON.stringify(body.session),
        // What this check-in says, also null: a status kept from an earlier image would be stale.
        update_status: body.update ? JSON.stringify(body.update) : null,
        running_version: body.update?.runningVersion ?? null,
        applied_revision: body.applied?.revision ?? null,
        restarts_total: eb('restarts_total', '+', body.health.restarts),
        crashes_total: eb('crashes_total', '+', body.health.crashes),
        ...(body.health.lastCrash ? { last_crash: JSON.stringify(body.health.lastCrash) } : {}),
      })).where('id', '=', id).executeTakeFirst();
      // Forgotten by an administrator since its credential was checked.
      if (stored.numUpdatedRows === 0n) return undefined;

      for (const ack of acks) {
        await trx.updateTable('commands').set({ state: ack.outcome, detail: ack.detail ?? null, answered_at: ack.at })
          .where('id', '=', ack.id).where('kiosk_id', '=', id).where('state', '=', 'pending').execute();
      }
      await trimAnswered(trx, id, limits.commandsPerKiosk);

      const fresh = await newRepairs(trx, id, repairs);
      if (fresh.length) {
        await trx.insertInto('repairs').values(fresh.map((r) => ({ kiosk_id: id, fault: r.fault, at: r.at, detail: r.detail, action: r.action, repaired: r.repaired ? 1 : 0 }))).execute();
        await trx.deleteFrom('repairs').where('kiosk_id', '=', id)
          .where('seq', 'not in', trx.selectFrom('repairs').select('seq').where('kiosk_id', '=', id).orderBy('seq', 'desc').limit(limits.repairsPerKiosk))
          .execute();
        for (const r of fresh) {
          await trx.insertInto('repair_totals').values({ fault: r.fault, repaired: r.repaired ? 1 : 0, total: 1 })
            .onConflict((oc) => oc.columns(['fault', 'repaired']).doUpdateSet((eb) => ({ total: eb('repair_totals.total', '+', 1) })))
            .execute();
        }
      }
      return view(trx, id);
    });
  }

  // ---- commands -----------------------------------------------------------------------------

  /** A new pending command, or the one of that kind already waiting (then nothing is added). */
  async issueCommand(command: { id: string; kioskId: string; kind: CommandKind; at: string; by: string }): Promise<{ issued: CommandRow } | { waiting: CommandRow }> {
    const waiting = () => this.db.selectFrom('commands').selectAll()
      .where('kiosk_id', '=', command.kioskId).where('kind', '=', command.kind).where('state', '=', 'pending').executeTakeFirst();
    const before = await waiting();
    if (before) return { waiting: before };
    try {
      await this.db.insertInto('commands').values({
        id: command.id, kiosk_id: command.kioskId, kind: command.kind, issued_at: command.at, issued_by: command.by, state: 'pending', detail: null, answered_at: null,
      }).execute();
    } catch (error) {
      // Another administrator's identical command won the unique index.
      const other = await waiting();
      if (other) return { waiting: other };
      throw error;
    }
    return { issued: await this.db.selectFrom('commands').selectAll().where('id', '=', command.id).executeTakeFirstOrThrow() };
  }

  commands(kioskId: string, limit: number): Promise<CommandRow[]> {
    return this.db.selectFrom('commands').selectAll().where('kiosk_id', '=', kioskId).orderBy('seq', 'desc').limit(limit).execute();
  }

  repairs(kioskId: string): Promise<RepairRow[]> {
    return this.db.selectFrom('repairs').selectAll().where('kiosk_id', '=', kioskId).orderBy('seq', 'desc').execute();
  }

  // ---- screenshots --------------------------------------------------------------------------

  /** Keeps the picture and answers its command, if that is a pending screenshot of this kiosk; else false. */
  async storeScreenshot(kioskId: string, commandId: string, png: Buffer, at: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const answered = await trx.updateTable('commands').set({ state: 'done', detail: 'screenshot received', answered_at: at })
        .where('id', '=', commandId).where('kiosk_id', '=', kioskId).where('kind', '=', 'screenshot').where('state', '=', 'pending')
        .executeTakeFirst();
      if (answered.numUpdatedRows === 0n) return false;
      await trx.insertInto('screenshots').values({ kiosk_id: kioskId, png, taken_at: at, command_id: commandId })
        .onConflict((oc) => oc.column('kiosk_id').doUpdateSet({ png, taken_at: at, command_id: commandId }))
        .execute();
      return true;
    });
  }

  screenshot(kioskId: string): Promise<{ png: Buffer; taken_at: string } | undefined> {
    return this.db.selectFrom('screenshots').select(['png', 'taken_at']).where('kiosk_id', '=', kioskId).executeTakeFirst();
  }

  async screenshotTakenAt(kioskId: string): Promise<string | null> {
    const row = await this.db.selectFrom('screenshots').select('taken_at').where('kiosk_id', '=', kioskId).executeTakeFirst();
    return row?.taken_at ?? null;
  }

  // ---- settings layers ----------------------------------------------------------------------

  async siteSettings(): Promise<string> {
    return (await this.db.selectFrom('site').select('settings').where('id', '=', 1).executeTakeFirstOrThrow()).settings;
  }

  groups(): Promise<GroupRow[]> {
    return this.db.selectFrom('groups').selectAll().orderBy('name').execute();
  }

  group(name: string): Promise<GroupRow | undefined> {
    return this.db.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /**
   * Per group, how many of its kiosks run each version: the update status's running version, else
   * (a kiosk without one) its image's release line; null: not checked in yet.
   */
  async versionsByGroup(): Promise<Array<{ group: string; version: string | null; kiosks: number }>> {
    const rows = await this.db.selectFrom('kiosks')
      .select(['group_name', 'running_version', 'image_version', (eb) => eb.fn.countAll<number | string>().as('count')])
      .where('group_name', 'is not', null).groupBy(['group_name', 'running_version', 'image_version']).execute();
    const counts = new Map<string, { group: string; version: string | null; kiosks: number }>();
    for (const row of rows) {
      const version = row.running_version ?? row.image_version;
      const key = JSON.stringify([row.group_name, version]);
      const entry = counts.get(key) ?? { group: row.group_name!, version, kiosks: 0 };
      entry.kiosks += Number(row.count);
      counts.set(key, entry);
    }
    return [...counts.values()];
  }

  async kioskCountsByGroup(): Promise<Map<string, number>> {
    const rows = await this.db.selectFrom('kiosks').select(['group_name', (eb) => eb.fn.countAll<number | string>().as('count')])
      .where('group_name', 'is not', null).groupBy('group_name').execute();
    return new Map(rows.map((row) => [row.group_name!, Number(row.count)]));
  }

  /**
   * Changes a layer by reading it and writing it back in one transaction; on PostgreSQL the row
   * is locked meanwhile, so two administrators' changes to one layer both land.
   */
  async changeSiteSettings(change: (current: string) => Promise<string>): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('site').select('settings').where('id', '=', 1).$if(this.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirstOrThrow();
      await trx.updateTable('site').set({ settings: await change(row.settings) }).where('id', '=', 1).execute();
    });
  }

  async changeGroupSettings(name: string, at: string, change: (current: string) => Promise<string>): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await ensureGroup(trx, name, at);
      const row = await trx.selectFrom('groups').select('settings').where('name', '=', name).$if(this.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirstOrThrow();
      await trx.updateTable('groups').set({ settings: await change(row.settings) }).where('name', '=', name).execute();
    });
  }

  /** Its kiosks and registered MACs fall back to the site's settings (the foreign keys set them to null). */
  async deleteGroup(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('groups').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- enrolment ----------------------------------------------------------------------------

  siteTokenByHash(hash: string): Promise<SiteTokenRow | undefined> {
    return this.db.selectFrom('site_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  siteTokens(): Promise<SiteTokenRow[]> {
    return this.db.selectFrom('site_tokens').selectAll().orderBy('created_at').execute();
  }

  async insertSiteToken(row: SiteTokenRow): Promise<void> {
    await this.db.insertInto('site_tokens').values(row).execute();
  }

  async deleteSiteToken(id: string): Promise<SiteTokenRow | undefined> {
    return this.db.deleteFrom('site_tokens').where('id', '=', id).returningAll().executeTakeFirst();
  }

  registeredMac(macs: readonly string[]): Promise<RegisteredMacRow | undefined> {
    if (!macs.length) return Promise.resolve(undefined);
    return this.db.selectFrom('registered_macs').selectAll().where('mac', 'in', macs).orderBy('mac').executeTakeFirst();
  }

  registeredMacs(): Promise<RegisteredMacRow[]> {
    return this.db.selectFrom('registered_macs').selectAll().orderBy('mac').execute();
  }

  /** Registers a MAC, or changes the name and group it enrols with. */
  async registerMac(row: RegisteredMacRow): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (row.group_name) await ensureGroup(trx, row.group_name, row.registered_at);
      await trx.insertInto('registered_macs').values(row)
        .onConflict((oc) => oc.column('mac').doUpdateSet({ name: row.name, group_name: row.group_name, registered_at: row.registered_at, registered_by: row.registered_by }))
        .execute();
    });
  }

  async forgetMac(mac: string): Promise<boolean> {
    const result = await this.db.deleteFrom('registered_macs').where('mac', '=', mac).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // ---- audit --------------------------------------------------------------------------------

  async audit(entry: AuditRecord): Promise<void> {
    await this.db.insertInto('audit').values(entry).execute();
  }

  auditEntries(limit: number): Promise<AuditRow[]> {
    return this.db.selectFrom('audit').selectAll().orderBy('seq', 'desc').limit(limit).execute();
  }

  // ---- metrics ------------------------------------------------------------------------------

  repairTotals(): Promise<Array<{ fault: string; repaired: number; total: number }>> {
    return this.db.selectFrom('repair_totals').select(['fault', 'repaired', 'total']).execute();
  }
}

type Trx = Transaction<FleetTables>;

async function ensureGroup(trx: Trx, name: string, at: string): Promise<void> {
  await trx.insertInto('groups').values({ name, settings: '{}', created_at: at }).onConflict((oc) => oc.column('name').doNothing()).execute();
}

/** `wanted`, or the first of wanted-2, wanted-3, ... that no kiosk has. */
async function freeName(trx: Trx, wanted: string): Promise<string> {
  for (let start = 1; ; start += 50) {
    const candidates = Array.from({ length: 50 }, (_, i) => (start + i === 1 ? wanted : `${wanted.slice(0, 58)}-${start + i}`));
    const taken = new Set((await trx.selectFrom('kiosks').select('name').where('name', 'in', candidates).execute()).map((row) => row.name));
    const free = candidates.find((name) => !taken.has(name));
    if (free) return free;
  }
}

/** The MACs now belong to this kiosk (a network card moved from another box moves with it). */
async function claimMacs(trx: Trx, kioskId: string, macs: readonly string[]): Promise<void> {
  await trx.deleteFrom('kiosk_macs').where((eb) => eb.or([eb('kiosk_id', '=', kioskId), ...(macs.length ? [eb('mac', 'in', macs)] : [])])).execute();
  if (macs.length) await trx.insertInto('kiosk_macs').values(macs.map((mac) => ({ mac, kiosk_id: kioskId }))).execute();
}

/** Answered commands beyond the limit go; pending ones stay. */
async function trimAnswered(trx: Trx, kioskId: string, keep: number): Promise<void> {
  await trx.deleteFrom('commands').where('kiosk_id', '=', kioskId).where('state', '!=', 'pending')
    .where('seq', 'not in', trx.selectFrom('commands').select('seq').where('kiosk_id', '=', kioskId).where('state', '!=', 'pending').orderBy('seq', 'desc').limit(keep))
    .execute();
}

/**
 * The repairs not stored yet: a kiosk whose check-in reply was lost sends the same repairs again,
 * and a repair is known by its fault and time.
 */
async function newRepairs(trx: Trx, kioskId: string, repairs: readonly Repair[]): Promise<Repair[]> {
  if (!repairs.length) return [];
  const known = await trx.selectFrom('repairs').select(['fault', 'at']).where('kiosk_id', '=', kioskId).where('at', 'in', repairs.map((r) => r.at)).execute();
  const seen = new Set(known.map((row) => `${row.fault} ${row.at}`));
  return repairs.filter((r) => {
    const key = `${r.fault} ${r.at}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function view(trx: Trx, id: string): Promise<KioskView> {
  const kiosk = await trx.selectFrom('kiosks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const site = (await trx.selectFrom('site').select('settings').where('id', '=', 1).executeTakeFirstOrThrow()).settings;
  const group = kiosk.group_name ? (await trx.selectFrom('groups').selectAll().where('name', '=', kiosk.group_name).executeTakeFirst()) ?? null : null;
  const pending = await trx.selectFrom('commands').selectAll().where('kiosk_id', '=', id).where('state', '=', 'pending').orderBy('seq').limit(32).execute();
  return { kiosk, site, group, pending };
}
