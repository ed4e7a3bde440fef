/**
 * The fleet's database: its tables as kysely types, and opening it (SQLite through better-sqlite3,
 * or a PostgreSQL pool) with the migrations run. Every query is written once against these types
 * and runs on both; the few column types the two spell differently are the migrations' business.
 *
 * Times are ISO 8601 text in UTC (toISOString: same length, so they sort as text), flags are 0/1
 * integers and structured values are JSON text: the same on both databases.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Generated } from 'kysely';
import pg from 'pg';
import type { FleetDatabase } from './config.js';
import { fleetMigrations } from './migrations/index.js';

export interface KioskTable {
  id: string;
  name: string;
  group_name: string | null;
  /** sha256 of the kiosk's secret, hex. */
  secret_hash: string;
  enrolled_at: string;
  /** How it was let in: "site token <label>" or "registered MAC <mac>". */
  enrolled_by: string;
  /** JSON: the MACs it enrolled with. */
  macs: string;
  last_check_in: string | null;
  /** JSON: the last check-in's body without its acks (inventory, session, health, applied, kioskVersion). */
  check_in: string | null;
  // Read by the fleet table and /metrics for every kiosk: kept as columns so neither parses check_in.
  kiosk_version: string | null;
  image_version: string | null;
  hostname: string | null;
  /** JSON: the addresses as "iface address" strings. */
  addresses: string;
  temperature_c: number | null;
  throttled: number;
  /** JSON: SeatSession. */
  seat: string;
  applied_revision: string | null;
  /** JSON: the last crash the kiosk told of, kept when later check-ins have none. */
  last_crash: string | null;
  /** JSON: the kiosk's own settings layer. */
  settings: string;
  restarts_total: number;
  crashes_total: number;
  /** JSON: the UpdateStatus of the last check-in, or null when it told none (migration 0002). */
  update_status: string | null;
  /** Its runningVersion ("0.2.0", what update_version names), or null without an update status. */
  running_version: string | null;
}

export interface GroupTable { name: string; settings: string; created_at: string }
export interface SiteTable { id: number; settings: string }
export interface SiteTokenTable { id: string; label: string; token_hash: string; created_at: string; created_by: string }
export interface RegisteredMacTable { mac: string; name: string | null; group_name: string | null; registered_at: string; registered_by: string }
export interface KioskMacTable { mac: string; kiosk_id: string }
export interface CommandTable {
  seq: Generated<number>;
  id: string;
  kiosk_id: string;
  kind: string;
  issued_at: string;
  issued_by: string;
  state: 'pending' | 'done' | 'failed';
  detail: string | null;
  answered_at: string | null;
}
export interface RepairTable {
  seq: Generated<number>;
  kiosk_id: string;
  fault: string;
  at: string;
  detail: string;
  action: string | null;
  repaired: number;
}
export interface RepairTotalTable { fault: string; repaired: number; total: number }
export interface AuditTable { seq: Generated<number>; at: string; who: string; action: string; target: string; detail: string }
export interface ScreenshotTable { kiosk_id: string; png: Buffer; taken_at: string; command_id: string }

export interface FleetTables {
  kiosks: KioskTable;
  groups: GroupTable;
  site: SiteTable;
  site_tokens: SiteTokenTable;
  registered_macs: RegisteredMacTable;
  kiosk_macs: KioskMacTable;
  commands: CommandTable;
  repairs: RepairTable;
  repair_totals: RepairTotalTable;
  audit: AuditTable;
  screenshots: ScreenshotTable;
}

export type FleetDb = Kysely<FleetTables>;
export type Dialect = FleetDatabase['dialect'];

export interface OpenDatabase {
  db: FleetDb;
  dialect: Dialect;
}

/**
 * Opens the database and brings its tables up to date. On PostgreSQL, instances starting at once
 * take turns (kysely's migrator holds an advisory lock); an SQLite file belongs to one instance.
 */
export async function openFleetDatabase(where: FleetDatabase, poolSize = 10): Promise<OpenDatabase> {
  const db = connectFleetDatabase(where, poolSize);
  try {
    await migrateFleetDatabase(db, where.dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, dialect: where.dialect };
}

/** A connection (pool) to the database, its tables as they are: openFleetDatabase also migrates. */
export function connectFleetDatabase(where: FleetDatabase, poolSize = 10): FleetDb {
  return where.dialect === 'sqlite' ? openSqlite(where.file) : new Kysely<FleetTables>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: where.url, max: poolSize }) }),
  });
}

function openSqlite(file: string): FleetDb {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const database = new SQLite(file);
  // WAL: readers (a /metrics scrape, the admin page) do not wait for a check-in's write.
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  return new Kysely<FleetTables>({ dialect: new SqliteDialect({ database }) });
}

/** Runs the migrations up to the newest, or up to (and including) `to` (a migration's name: tests of an upgrade). */
export async function migrateFleetDatabase(db: FleetDb, dialect: Dialect, to?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => fleetMigrations(dialect) },
    migrationTableName: 'fleet_migrations',
    migrationLockTableName: 'fleet_migrations_lock',
  });
  const { error, results } = await (to === undefined ? migrator.migrateToLatest() : migrator.migrateTo(to));
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    throw new Error(`fleet database migration${failed ? ` ${failed}` : ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
