/**
 * Each kiosk's last update status (issue 12, contract/update-status.ts): one JSON column on kiosks,
 * written by every check-in. It is small (a few hundred bytes, unlike the check-in's body) and the
 * fleet table, /metrics and the groups' "n of m on version" lines read it for every kiosk, so it is
 * kept apart from check_in.
 */
import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('kiosks').addColumn('update_status', 'text').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('kiosks').dropColumn('update_status').execute();
}
