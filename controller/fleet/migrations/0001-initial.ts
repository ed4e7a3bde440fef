/** The fleet's first tables (controller/fleet/database.ts describes each). */
import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/** An ever-growing row number, for "newest first" that does not depend on clocks agreeing. */
function withSequence<T extends string>(table: CreateTableBuilder<T>, dialect: Dialect): CreateTableBuilder<T> {
  return dialect === 'sqlite'
    ? table.addColumn('seq', 'integer', (col) => col.primaryKey().autoIncrement())
    : table.addColumn('seq', 'serial', (col) => col.primaryKey());
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const bytes = dialect === 'sqlite' ? 'blob' : 'bytea';
  const real = dialect === 'sqlite' ? 'real' : 'double precision';

  await db.schema.createTable('groups')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('settings', 'text', (col) => col.notNull().defaultTo('{}'))
    .addColumn('created_at', 'text', (col) => col.notNull())
    .execute();

  await db.schema.createTable('site')
    .addColumn('id', 'integer', (col) => col.primaryKey().check(sql`id = 1`))
    .addColumn('settings', 'text', (col) => col.notNull().defaultTo('{}'))
    .execute();
  await db.insertInto('site').values({ id: 1, settings: '{}' }).execute();

  await db.schema.createTable('kiosks')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull().unique())
    // A deleted group's kiosks fall back to the site's settings.
    .addColumn('group_name', 'text', (col) => col.references('groups.name').onDelete('set null').onUpdate('cascade'))
    .addColumn('secret_hash', 'text', (col) => col.notNull())
    .addColumn('enrolled_at', 'text', (col) => col.notNull())
    .addColumn('enrolled_by', 'text', (col) => col.notNull())
    .addColumn('macs', 'text', (col) => col.notNull())
    .addColumn('last_check_in', 'text')
    .addColumn('check_in', 'text')
    .addColumn('kiosk_version', 'text')
    .addColumn('image_version', 'text')
    .addColumn('hostname', 'text')
    .addColumn('addresses', 'text', (col) => col.notNull().defaultTo('[]'))
    .addColumn('temperature_c', real)
    .addColumn('throttled', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('seat', 'text', (col) => col.notNull().defaultTo('null'))
    .addColumn('applied_revision', 'text')
    .addColumn('last_crash', 'text')
    .addColumn('settings', 'text', (col) => col.notNull().defaultTo('{}'))
    .addColumn('restarts_total', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('crashes_total', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('kiosks_group_name').on('kiosks').column('group_name').execute();

  await db.schema.createTable('kiosk_macs')
    .addColumn('mac', 'text', (col) => col.primaryKey())
    .addColumn('kiosk_id', 'text', (col) => col.notNull().references('kiosks.id').onDelete('cascade'))
    .execute();
  await db.schema.createIndex('kiosk_macs_kiosk_id').on('kiosk_macs').column('kiosk_id').execute();

  await db.schema.createTable('site_tokens')
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('label', 'text', (col) => col.notNull())
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('created_by', 'text', (col) => col.notNull())
    .execute();

  await db.schema.createTable('registered_macs')
    .addColumn('mac', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text')
    .addColumn('group_name', 'text', (col) => col.references('groups.name').onDelete('set null').onUpdate('cascade'))
    .addColumn('registered_at', 'text', (col) => col.notNull())
    .addColumn('registered_by', 'text', (col) => col.notNull())
    .execute();

  await withSequence(db.schema.createTable('commands'), dialect)
    .addColumn('id', 'text', (col) => col.notNull().unique())
    .addColumn('kiosk_id', 'text', (col) => col.notNull().references('kiosks.id').onDelete('cascade'))
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('issued_at', 'text', (col) => col.notNull())
    .addColumn('issued_by', 'text', (col) => col.notNull())
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('detail', 'text')
    .addColumn('answered_at', 'text')
    .execute();
  await db.schema.createIndex('commands_kiosk_id').on('commands').columns(['kiosk_id', 'seq']).execute();
  // One waiting command of a kind per kiosk, also when two administrators (or instances) issue it at once.
  await db.schema.createIndex('commands_one_pending_per_kind').on('commands').columns(['kiosk_id', 'kind']).unique()
    .where(sql.ref('state'), '=', 'pending').execute();

  await withSequence(db.schema.createTable('repairs'), dialect)
    .addColumn('kiosk_id', 'text', (col) => col.notNull().references('kiosks.id').onDelete('cascade'))
    .addColumn('fault', 'text', (col) => col.notNull())
    .addColumn('at', 'text', (col) => col.notNull())
    .addColumn('detail', 'text', (col) => col.notNull())
    .addColumn('action', 'text')
    .addColumn('repaired', 'integer', (col) => col.notNull())
    .execute();
  await db.schema.createIndex('repairs_kiosk_id').on('repairs').columns(['kiosk_id', 'seq']).execute();

  await db.schema.createTable('repair_totals')
    .addColumn('fault', 'text', (col) => col.notNull())
    .addColumn('repaired', 'integer', (col) => col.notNull())
    .addColumn('total', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('repair_totals_pk', ['fault', 'repaired'])
    .execute();

  await withSequence(db.schema.createTable('audit'), dialect)
    .addColumn('at', 'text', (col) => col.notNull())
    .addColumn('who', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('target', 'text', (col) => col.notNull())
    .addColumn('detail', 'text', (col) => col.notNull())
    .execute();

  await db.schema.createTable('screenshots')
    .addColumn('kiosk_id', 'text', (col) => col.primaryKey().references('kiosks.id').onDelete('cascade'))
    .addColumn('png', bytes, (col) => col.notNull())
    .addColumn('taken_at', 'text', (col) => col.notNull())
    .addColumn('command_id', 'text', (col) => col.notNull())
    .execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['screenshots', 'audit', 'repair_totals', 'repairs', 'commands', 'registered_macs', 'site_tokens', 'kiosk_macs', 'kiosks', 'site', 'groups']) {
    await db.schema.dropTable(table).execute();
  }
}
