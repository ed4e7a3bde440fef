/**
 * The fleet database's migrations, in order. Each is a module here, numbered; a new one is added
 * to this list and never changes once released (the migrator refuses a database whose applied
 * migrations are not a prefix of this list).
 */
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';
import * as initial from './0001-initial.js';
import * as updateStatus from './0002-update-status.js';

/** What a migration module exports: its steps, told which database they run on. */
export interface FleetMigration {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a migration sees the tables as they were then, not FleetTables
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  down(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

const MIGRATIONS: ReadonlyArray<[name: string, migration: FleetMigration]> = [
  ['0001-initial', initial],
  ['0002-update-status', updateStatus],
];

export function fleetMigrations(dialect: Dialect): Record<string, Migration> {
  return Object.fromEntries(MIGRATIONS.map(([name, migration]) => [name, {
    up: (db) => migration.up(db, dialect),
    down: (db) => migration.down(db, dialect),
  }]));
}
