/**
 * Each kiosk's last update status (issue 12, contract/update-status.ts), written by every check-in:
 * the status as JSON (small, unlike the check-in's body; the fleet table and /metrics read it for
 * every kiosk, so it is kept apart from check_in), and its running version as a column of its own,
 * which the groups' "n of m on version" counts group by. That version is the one the update_version
 * setting names ("0.2.0"); image_version holds the whole release line ("thinkiosk 0.2.0 arm64 (…)").
 */
import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('kiosks').addColumn('update_status', 'text').execute();
  await db.schema.alterTable('kiosks').addColumn('running_version', 'text').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('kiosks').dropColumn('running_version').execute();
  await db.schema.alterTable('kiosks').dropColumn('update_status').execute();
}
